/**
 * A message body, shown by a content view: JSON (pretty), HTML/XML/text, images, server-sent
 * events, or a hex dump. Bodies are fetched from `content.data` when shown.
 */
import { useEffect, useState } from 'preact/hooks';

export type ViewName = 'auto' | 'text' | 'json' | 'image' | 'sse' | 'hex';
const VIEWS: ViewName[] = ['auto', 'text', 'json', 'image', 'sse', 'hex'];

/** Bodies above this are offered as a download only. */
const MAX_SHOWN = 4 << 20;

function hexdump(b: Uint8Array, max = 64 * 1024): string {
  const lines: string[] = [];
  const n = Math.min(b.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = b.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(row, (x) => x.toString(16).padStart(2, '0')).join(' ');
    const asc = Array.from(row, (x) => (x >= 32 && x < 127 ? String.fromCharCode(x) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${asc}`);
  }
  if (b.length > n) lines.push(`... ${b.length - n} more bytes`);
  return lines.join('\n');
}

interface SseEvent {
  event: string;
  id: string;
  data: string;
}

/** Parse a text/event-stream body into its events (the WHATWG rules, without retry). */
export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  let cur: SseEvent = { event: 'message', id: '', data: '' };
  let hasData = false;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (hasData) out.push({ ...cur, data: cur.data.replace(/\n$/, '') });
      cur = { event: 'message', id: cur.id, data: '' };
      hasData = false;
      continue;
    }
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'data') {
      cur.data += `${value}\n`;
      hasData = true;
    } else if (field === 'event') cur.event = value;
    else if (field === 'id') cur.id = value;
  }
  if (hasData) out.push({ ...cur, data: cur.data.replace(/\n$/, '') });
  return out;
}

function autoView(type: string | null, bytes: Uint8Array): ViewName {
  const t = type ?? '';
  if (t.startsWith('image/')) return 'image';
  if (t === 'text/event-stream') return 'sse';
  if (/json/.test(t)) return 'json';
  if (/^text\/|xml|javascript|x-www-form-urlencoded/.test(t)) return 'text';
  let ctl = 0;
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c < 9 || (c > 13 && c < 32)) ctl++;
  }
  return ctl > n * 0.1 ? 'hex' : 'text';
}

function Body({ view, type, bytes }: { view: ViewName; type: string | null; bytes: Uint8Array }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (view !== 'image') return;
    const u = URL.createObjectURL(new Blob([bytes as BlobPart], { type: type ?? 'image/png' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [view, bytes]);
  const text = (): string => new TextDecoder().decode(bytes);
  switch (view) {
    case 'image':
      return url ? <img class="body-image" src={url} alt="response body" /> : null;
    case 'hex':
      return <pre class="body hex">{hexdump(bytes)}</pre>;
    case 'json': {
      try {
        return <pre class="body json">{JSON.stringify(JSON.parse(text()), null, 2)}</pre>;
      } catch (err) {
        return (
          <div>
            <p class="muted">Not valid JSON ({(err as Error).message}); shown as text.</p>
            <pre class="body">{text()}</pre>
          </div>
        );
      }
    }
    case 'sse':
      return (
        <table class="sse">
          <thead>
            <tr>
              <th>event</th>
              <th>id</th>
              <th>data</th>
            </tr>
          </thead>
          <tbody>
            {parseSse(text()).map((e) => (
              <tr>
                <td>{e.event}</td>
                <td>{e.id}</td>
                <td>
                  <pre>{e.data}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      );
    default:
      return <pre class="body">{text()}</pre>;
  }
}

export function ContentView({ url, length, type }: { url: string; length: number | null; type: string | null }) {
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [view, setView] = useState<ViewName>('auto');
  const tooBig = length !== null && length > MAX_SHOWN;
  useEffect(() => {
    setBytes(null);
    setError(null);
    if (length === null || length === 0 || tooBig) return;
    let live = true;
    fetch(url, { credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) throw new Error(await r.text());
        return new Uint8Array(await r.arrayBuffer());
      })
      .then((b) => live && setBytes(b))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [url, length]);
  if (length === null) return <p class="muted">No body recorded (streamed).</p>;
  if (length === 0) return <p class="muted">No body.</p>;
  const chosen = view === 'auto' && bytes ? autoView(type, bytes) : view;
  return (
    <div class="content">
      <div class="content-bar">
        <select
          value={view}
          onChange={(e) => setView((e.target as HTMLSelectElement).value as ViewName)}
          aria-label="content view"
        >
          {VIEWS.map((v) => (
            <option value={v}>{v === 'auto' && bytes ? `auto (${autoView(type, bytes)})` : v}</option>
          ))}
        </select>
        <a href={url} download>
          download
        </a>
      </div>
      {tooBig ? <p class="muted">{length} bytes: too large to show here; download it.</p> : null}
      {error ? <p class="error">{error}</p> : null}
      {bytes ? <Body view={chosen} type={type} bytes={bytes} /> : null}
    </div>
  );
}
