/** The selected flow: actions, then tabs for request, response, messages, connection, timing. */
import { useComputed } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { WebConnection, WebFlow, WebMessage, WebStreamMessage } from '../src/protocol.js';
import { act, edit, flowPath, post, refreshSelected } from './actions.js';
import { getJson, send } from './api.js';
import { ContentView } from './ContentView.js';
import { EditForm } from './Edit.js';
import { time } from './format.js';
import * as s from './state.js';

type Tab = 'request' | 'response' | 'messages' | 'connection' | 'timing';
const EXPORTS = ['curl', 'httpie', 'fetch', 'python-requests', 'raw', 'har'];

function Headers({ m }: { m: WebMessage }) {
  return (
    <table class="headers">
      <tbody>
        {m.headers.map(([k, v]) => (
          <tr>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MessagePart({ flow, part }: { flow: WebFlow; part: 'request' | 'response' }) {
  const [editing, setEditing] = useState(false);
  const m = part === 'request' ? flow.request : flow.response;
  if (!m) return <p class="muted">{flow.error ? `No response: ${flow.error.msg}` : 'No response yet.'}</p>;
  if (editing) return <EditForm flow={flow} part={part} onDone={() => setEditing(false)} />;
  const first =
    part === 'request'
      ? `${flow.request!.method} ${flow.request!.url} ${m.http_version}`
      : `${m.http_version} ${flow.response!.status_code} ${flow.response!.reason}`;
  return (
    <div>
      <div class="first-line">
        <code>{first}</code> <button onClick={() => setEditing(true)}>Edit</button>
      </div>
      <Headers m={m} />
      <ContentView url={`${flowPath(flow.id)}/${part}/content.data`} length={m.contentLength} type={m.content_type} />
    </div>
  );
}

function Messages({ flow }: { flow: WebFlow }) {
  const [list, setList] = useState<WebStreamMessage[] | null>(null);
  const n = flow.websocket?.messages_meta.count ?? flow.messages_meta?.count ?? 0;
  useEffect(() => {
    void getJson<WebStreamMessage[]>(`${flowPath(flow.id)}/messages?limit=1000`).then(setList, () => setList([]));
  }, [flow.id, n]);
  if (!list) return null;
  return (
    <table class="messages">
      <tbody>
        {list.map((m) => (
          <tr class={m.from_client ? 'from-client' : 'from-server'}>
            <td>{m.from_client ? '→' : '←'}</td>
            <td>{time(m.timestamp)}</td>
            <td>{m.type}</td>
            <td>
              <pre>{m.encoding === 'base64' ? `(base64) ${m.content}` : m.content}</pre>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Conn({ c, title }: { c: WebConnection; title: string }) {
  const rows: Array<[string, unknown]> = [
    ['address', c.address ? c.address.join(':') : undefined],
    ['peer', c.peername?.join(':')],
    ['local', c.sockname?.join(':')],
    ['TLS', c.tls_established ? (c.tls_version ?? 'yes') : 'no'],
    ['SNI', c.sni],
    ['cipher', c.cipher],
    ['ALPN', c.alpn],
    ['certificate', c.cert ? `${c.cert.subject} (issuer ${c.cert.issuer}, until ${c.cert.notafter})` : undefined],
  ];
  return (
    <div>
      <h4>{title}</h4>
      <table class="kv">
        <tbody>
          {rows
            .filter(([, v]) => v !== undefined && v !== null && v !== '')
            .map(([k, v]) => (
              <tr>
                <th>{k}</th>
                <td>{String(v)}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  );
}

function Timing({ flow }: { flow: WebFlow }) {
  const t: Array<[string, number | null | undefined]> = [
    ['client connected', flow.client_conn.timestamp_start],
    ['client TLS', flow.client_conn.timestamp_tls_setup],
    ['server connected', flow.server_conn.timestamp_tcp_setup],
    ['server TLS', flow.server_conn.timestamp_tls_setup],
    ['request start', flow.request?.timestamp_start],
    ['request end', flow.request?.timestamp_end],
    ['response start', flow.response?.timestamp_start],
    ['response end', flow.response?.timestamp_end],
  ];
  const start = flow.request?.timestamp_start ?? flow.timestamp_created;
  return (
    <table class="kv">
      <tbody>
        {t
          .filter(([, v]) => v)
          .map(([k, v]) => (
            <tr>
              <th>{k}</th>
              <td>
                {time(v)} <span class="muted">(+{Math.round((v! - start) * 1000)} ms)</span>
              </td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

function Export({ flow }: { flow: WebFlow }) {
  const [out, setOut] = useState<{ format: string; text: string } | null>(null);
  const run = (format: string): void =>
    void act(`Export as ${format}`, async () =>
      setOut({
        format,
        text: await send<string>('GET', `${flowPath(flow.id)}/export/${format}`).then((t) =>
          typeof t === 'string' ? t : JSON.stringify(t, null, 4),
        ),
      }),
    );
  return (
    <span class="export">
      <select aria-label="export" onChange={(e) => run((e.target as HTMLSelectElement).value)} value="">
        <option value="" disabled>
          Export…
        </option>
        {EXPORTS.map((f) => (
          <option value={f}>{f}</option>
        ))}
      </select>
      {out ? (
        <div class="modal" role="dialog">
          <div class="modal-box">
            <h4>Export as {out.format}</h4>
            <textarea readOnly rows={14} class="export-text" value={out.text} />
            <button onClick={() => void navigator.clipboard?.writeText(out.text)}>Copy</button>{' '}
            <button onClick={() => setOut(null)}>Close</button>
          </div>
        </div>
      ) : null}
    </span>
  );
}

function Toolbar({ flow }: { flow: WebFlow }) {
  const features = s.serverState.value?.features;
  const id = flow.id;
  return (
    <div class="toolbar">
      {flow.intercepted ? (
        <button class="primary" onClick={() => void act('Resume', () => post(id, 'resume'))}>
          Resume
        </button>
      ) : null}
      <button disabled={!flow.killable} onClick={() => void act('Kill', () => post(id, 'kill'))}>
        Kill
      </button>
      <button onClick={() => void act('Mark', () => edit(id, { marked: flow.marked ? '' : ':default:' }))}>
        {flow.marked ? 'Unmark' : 'Mark'}
      </button>
      <button
        onClick={() => {
          const c = prompt('Comment', flow.comment);
          if (c !== null) void act('Comment', () => edit(id, { comment: c }));
        }}
      >
        Comment
      </button>
      <button onClick={() => void act('Duplicate', () => post(id, 'duplicate'))}>Duplicate</button>
      <button
        disabled={features ? !features.replay : false}
        title={features && !features.replay ? 'needs the client replay addon' : ''}
        onClick={() => void act('Replay', () => post(id, 'replay'))}
      >
        Replay
      </button>
      <button disabled={!flow.modified} onClick={() => void act('Revert', () => post(id, 'revert'))}>
        Revert
      </button>
      <button
        onClick={() =>
          void act('Delete', async () => {
            await send('DELETE', flowPath(id));
            s.selectedId.value = null;
          })
        }
      >
        Delete
      </button>
      <Export flow={flow} />
    </div>
  );
}

export function Detail() {
  const [tab, setTab] = useState<Tab>('request');
  const id = s.selectedId.value;
  // Only the selected row's version, so a batch of other rows does not re-render the details.
  const version = useComputed(() => s.rows.value.find((r) => r.id === s.selectedId.value)?.v).value;
  // Refetch when the selection or its row changes.
  useEffect(() => {
    void refreshSelected();
  }, [id, version]);
  const flow = s.selected.value;
  if (!id || !flow || flow.id !== id) return <div class="detail empty">{id ? 'Loading…' : 'Select a flow.'}</div>;
  const tabs: Tab[] = flow.type === 'http' ? ['request', 'response'] : [];
  if (flow.websocket || flow.messages_meta) tabs.push('messages');
  tabs.push('connection', 'timing');
  const current = tabs.includes(tab) ? tab : tabs[0]!;
  return (
    <div class="detail">
      <Toolbar flow={flow} />
      {flow.comment ? <p class="comment">💬 {flow.comment}</p> : null}
      {flow.error ? <p class="error">Error: {flow.error.msg}</p> : null}
      <nav class="tabs">
        {tabs.map((t) => (
          <button class={t === current ? 'active' : ''} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </nav>
      <div class="tab-body">
        {current === 'request' || current === 'response' ? (
          <MessagePart key={`${flow.id}-${current}`} flow={flow} part={current} />
        ) : null}
        {current === 'messages' ? <Messages flow={flow} /> : null}
        {current === 'connection' ? (
          <>
            <Conn c={flow.client_conn} title="Client" />
            <Conn c={flow.server_conn} title="Server" />
          </>
        ) : null}
        {current === 'timing' ? <Timing flow={flow} /> : null}
      </div>
    </div>
  );
}
