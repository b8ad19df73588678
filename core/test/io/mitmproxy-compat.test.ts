/**
 * Compatibility with the real thing: flows recorded by mitmdump 8.1.1 (format 17) read the same
 * in mitmts as in mitmproxy's own reader (expected.json, written by dump.py), and mitmts's
 * filters give mitmproxy's answers on them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/filter/index.js';
import type { AnyFlow, Client, HTTPFlow, Message, Request, Response, Server, TCPFlow } from '../../src/flow/index.js';
import { checkFlowState, FlowReader } from '../../src/io/index.js';
import { expected, FLOWS_MITM } from './fixtures.js';

const exp = expected();
const flows: AnyFlow[] = [...new FlowReader(FLOWS_MITM)];

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));
const fields = (h: { fields: Array<[Buffer, Buffer]> } | null) =>
  h === null ? null : h.fields.map(([k, v]) => [k.toString('latin1'), v.toString('latin1')]);

function conn(c: Client | Server, server: boolean) {
  const d: Record<string, unknown> = {
    id: c.id,
    peername: c.peername,
    sockname: c.sockname,
    tls_established: c.tlsEstablished,
    tls_version: c.tlsVersion,
    sni: c.sni,
    alpn: c.alpn === null ? null : c.alpn.toString('latin1'),
    cipher: c.cipher,
    error: c.error,
    certificate_count: c.certificateList.length,
    timestamp_start: c.timestampStart,
    timestamp_end: c.timestampEnd,
    timestamp_tls_setup: c.timestampTlsSetup,
  };
  if (server) {
    const s = c as Server;
    d.address = s.address;
    d.timestamp_tcp_setup = s.timestampTcpSetup;
    d.via = s.via;
  } else d.has_mitmcert = (c as Client).mitmcert !== null;
  return d;
}

function message(m: Message) {
  let text: string | null;
  try {
    text = m.getText(true);
  } catch {
    text = null;
  }
  return {
    http_version: m.httpVersion,
    headers: fields(m.headers),
    trailers: fields(m.trailers),
    raw_content: b64(m.rawContent),
    content: b64(m.getContent(false)),
    text,
    timestamp_start: m.timestampStart,
    timestamp_end: m.timestampEnd,
  };
}

function dump(f: AnyFlow) {
  const d: Record<string, unknown> = {
    id: f.id,
    type: f.type,
    marked: f.marked,
    comment: f.comment,
    is_replay: f.isReplay,
    metadata: f.metadata,
    intercepted: f.intercepted,
    timestamp_created: f.timestampCreated,
    error: f.error === null ? null : { msg: f.error.msg, timestamp: f.error.timestamp },
    client_conn: conn(f.clientConn, false),
    server_conn: conn(f.serverConn, true),
  };
  if (f.type === 'http') {
    const h = f as HTTPFlow;
    const r: Request = h.request;
    d.request = {
      ...message(r),
      method: r.method,
      scheme: r.scheme,
      host: r.host,
      port: r.port,
      path: r.path,
      authority: r.authority,
      url: r.url,
      pretty_url: r.prettyUrl,
      pretty_host: r.prettyHost,
      query: r.query.items(true),
      cookies: r.cookies.items(true),
    };
    const s: Response | null = h.response;
    d.response =
      s === null
        ? null
        : {
            ...message(s),
            status_code: s.statusCode,
            reason: s.reason,
            // mitmproxy 8.1.1 gave flag attributes (HttpOnly) the value ""; current mitmproxy, like
            // mitmts, gives them None so that "HttpOnly" and "HttpOnly=" stay distinct.
            cookies: s.cookies
              .items(true)
              .map(([k, [v, attrs]]) => [k, v, attrs.items(true).map(([a, x]) => [a, x ?? ''])]),
          };
    const w = h.websocket;
    d.websocket =
      w === null
        ? null
        : {
            messages: w.messages.map((m) => ({
              type: m.type,
              from_client: m.fromClient,
              content: b64(m.content),
              timestamp: m.timestamp,
              dropped: m.dropped,
              injected: m.injected,
            })),
            closed_by_client: w.closedByClient,
            close_code: w.closeCode,
            close_reason: w.closeReason,
            timestamp_end: w.timestampEnd,
          };
  } else if (f.type === 'tcp') {
    d.messages = (f as TCPFlow).messages.map((m) => ({
      from_client: m.fromClient,
      content: b64(m.content),
      timestamp: m.timestamp,
    }));
  }
  return d;
}

describe('reading mitmdump 8.1.1 files (format 17)', () => {
  it('was recorded by mitmproxy 8.1.1 at format 17 and covers every kind of flow asked for', () => {
    expect(exp.mitmproxy_version).toBe('8.1.1');
    expect(exp.flow_format_version).toBe(17);
    expect(readFileSync(FLOWS_MITM).subarray(0, 200).toString('latin1')).toContain('7:version;2:17#');
    const f = exp.flows;
    expect(f.length).toBe(15);
    expect(f.some((x) => x.request?.http_version === 'HTTP/2.0')).toBe(true);
    expect(f.some((x) => x.request?.scheme === 'https')).toBe(true);
    expect(f.some((x) => x.websocket !== null && x.websocket !== undefined)).toBe(true);
    expect(f.some((x) => x.error !== null)).toBe(true);
    expect(f.some((x) => x.type === 'tcp')).toBe(true);
    expect(
      f.some((x) =>
        x.response?.headers.some(([k, v]: string[]) => k.toLowerCase() === 'content-encoding' && v === 'br'),
      ),
    ).toBe(true);
    expect(
      f.some((x) =>
        x.response?.headers.some(([k, v]: string[]) => k.toLowerCase() === 'content-encoding' && v === 'gzip'),
      ),
    ).toBe(true);
    expect(f.some((x) => x.response?.cookies.length === 2)).toBe(true);
    expect(f.filter((x) => x.marked !== '').length).toBeGreaterThanOrEqual(3);
    expect(f.filter((x) => x.comment !== '').length).toBeGreaterThanOrEqual(3);
  });

  it('yields the same flows, in order, as mitmproxy', () => {
    expect(flows.map((f) => f.id)).toEqual(exp.flows.map((f) => f.id));
  });

  it.each(exp.flows.map((f, i) => [i, f.request?.pretty_url ?? f.type, f] as const))(
    'flow %i (%s): every field mitmproxy sees',
    (i, _name, want) => {
      expect(dump(flows[i]!)).toEqual(want);
    },
  );

  it('reads the same synchronously and asynchronously, from a file, a Buffer and a stream of small chunks', async () => {
    const bytes = readFileSync(FLOWS_MITM);
    const ids = flows.map((f) => f.id);
    const asyncIds: string[] = [];
    for await (const f of new FlowReader(FLOWS_MITM)) asyncIds.push(f.id);
    expect(asyncIds).toEqual(ids);
    expect([...new FlowReader(bytes)].map((f) => f.id)).toEqual(ids);
    async function* dribble() {
      for (let i = 0; i < bytes.length; i += 97) yield bytes.subarray(i, i + 97);
    }
    const streamed: string[] = [];
    for await (const f of new FlowReader(dribble())) streamed.push(f.id);
    expect(streamed).toEqual(ids);
    expect([...new FlowReader(FLOWS_MITM, { chunkSize: 13 })].map((f) => f.id)).toEqual(ids);
  });
});

describe('streaming', () => {
  it('yields each flow as soon as its record has arrived (no read-ahead to the end)', async () => {
    const bytes = readFileSync(FLOWS_MITM);
    const first = [...new FlowReader(bytes)][0]!;
    const firstLen = encodedLength(bytes);
    let sentRest = false;
    async function* source() {
      yield bytes.subarray(0, firstLen);
      sentRest = true;
      yield bytes.subarray(firstLen);
    }
    const it = new FlowReader(source())[Symbol.asyncIterator]();
    const r = await it.next();
    expect(r.value!.id).toBe(first.id);
    expect(sentRest).toBe(false);
    let n = 1;
    while (!(await it.next()).done) n++;
    expect(n).toBe(15);
  });
});

function encodedLength(b: Buffer): number {
  const colon = b.indexOf(0x3a);
  return colon + 1 + Number(b.subarray(0, colon).toString()) + 1;
}

describe('filters give mitmproxy answers on the recorded flows', () => {
  it('covers at least 40 expressions', () => {
    expect(exp.filters.length).toBeGreaterThanOrEqual(40);
  });
  it.each(exp.filters.map((x) => [x.expr, x.matches] as const))('%s', (expr, matches) => {
    const flt = parseFilter(expr);
    expect(flows.filter((f) => flt.match(f)).map((f) => f.id)).toEqual(matches);
  });
  it('differs from stock 8.1.1 only where case matters (8.1.1 was case-sensitive)', () => {
    const differing = exp.filters.filter((x) => x.matches_8_1_1 !== undefined);
    for (const x of differing) {
      const sensitive = parseFilter(x.expr, { caseSensitive: true });
      expect(
        flows.filter((f) => sensitive.match(f)).map((f) => f.id),
        x.expr,
      ).toEqual(x.matches_8_1_1);
    }
    expect(differing.length).toBeGreaterThan(0);
  });
});

describe('modified flows (backup)', () => {
  it('migrates the nested format 17 backup that mitmproxy 8.1.1 writes, so revert() works', () => {
    const path = FLOWS_MITM.replace('flows.mitm', 'modified.mitm');
    const states = [...new FlowReader(path).readStates()];
    expect(states).toHaveLength(1);
    expect(checkFlowState(states[0]!)).toEqual([]);
    const f = [...new FlowReader(path)][0]! as HTTPFlow;
    expect(f.comment).toBe('edited after recording');
    expect(f.response!.statusCode).toBe(418);
    expect(f.request.headers.get('x-edited')).toBe('yes');
    expect(f.modified()).toBe(true);
    f.revert();
    expect(f.comment).toBe('');
    expect(f.response!.statusCode).toBe(200);
    expect(f.request.headers.has('x-edited')).toBe(false);
    expect(f.id).toBe(exp.flows[0].id);
  });
});
