/**
 * Flows as JSON for the page and the API: a row per flow for the table ({@link flowRow}) and
 * mitmweb's `flow_to_json` shape for details (`GET /flows/:id`): no bodies, their sizes and
 * hashes instead (bodies come from `content.data`).
 */
import { createHash } from 'node:crypto';
import type { Client, DNSFlow, Flow, HTTPHeaders, HTTPFlow, Message, Server, TCPFlow } from '@mitmts/sdk';
import { dnsTypeName } from '@mitmts/sdk';
import type { FlowRow, WebConnection, WebFlow, WebMessage, WebStreamMessage } from './protocol.js';
import { flowEnd, flowHost, flowSize, flowStart, flowUrl } from './sortkeys.js';

const isHttp = (f: Flow): f is HTTPFlow => f.type === 'http';

/** `type/subtype` of a Content-Type header, lower case; null without one. */
export function mediaType(h: HTTPHeaders | undefined): string | null {
  const v = h?.get('content-type');
  return v ? v.split(';')[0]!.trim().toLowerCase() : null;
}

export function flowRow(f: Flow, v: number): FlowRow {
  const http = isHttp(f) ? f : null;
  const end = flowEnd(f);
  return {
    id: f.id,
    v,
    type: f.type,
    method: http ? http.request.method : f.type.toUpperCase(),
    url: flowUrl(f),
    host: flowHost(f),
    path: http ? http.request.path : '',
    scheme: http ? http.request.scheme : f.type,
    http_version: http ? http.request.httpVersion : '',
    status: http?.response?.statusCode ?? null,
    reason: http?.response?.reason ?? null,
    content_type: http ? mediaType(http.response?.headers) : null,
    size: flowSize(f),
    timestamp_created: f.timestampCreated,
    duration: end === null ? null : Math.max(0, end - flowStart(f)),
    response_end: http?.response?.timestampEnd ?? null,
    error: f.error?.msg ?? null,
    marked: f.marked,
    comment: f.comment,
    intercepted: f.intercepted,
    is_replay: f.isReplay,
    live: f.live,
    websocket: http?.websocket != null,
    tls: f.clientConn.tls,
    modified: f.modified(),
  };
}

function connection(c: Client | Server, server: Server | null): WebConnection {
  const cert = c.certificateList[0] ?? null;
  let certJson: WebConnection['cert'] = null;
  if (cert) {
    try {
      certJson = {
        subject: cert.subject.map(([k, v]) => `${k}=${v}`).join(', ') || null,
        issuer: cert.issuer.map(([k, v]) => `${k}=${v}`).join(', ') || null,
        notbefore: cert.notbefore.toISOString(),
        notafter: cert.notafter.toISOString(),
      };
    } catch {
      certJson = null;
    }
  }
  const out: WebConnection = {
    id: c.id,
    peername: c.peername ? [String(c.peername[0]), Number(c.peername[1])] : null,
    sockname: c.sockname ? [String(c.sockname[0]), Number(c.sockname[1])] : null,
    tls_established: c.tlsEstablished,
    tls_version: c.tlsVersion,
    sni: c.sni,
    cipher: c.cipher,
    alpn: c.alpn ? c.alpn.toString('latin1') : null,
    cert: certJson,
    timestamp_start: c.timestampStart,
    timestamp_tls_setup: c.timestampTlsSetup,
    timestamp_end: c.timestampEnd,
  };
  if (server) {
    out.address = server.address ? [String(server.address[0]), Number(server.address[1])] : null;
    out.timestamp_tcp_setup = server.timestampTcpSetup;
  }
  return out;
}

const headerList = (h: HTTPHeaders | null): Array<[string, string]> | null => (h === null ? null : h.items(true));

function message(m: Message): WebMessage {
  const raw = m.rawContent;
  return {
    http_version: m.httpVersion,
    headers: m.headers.items(true),
    trailers: headerList(m.trailers),
    contentLength: raw === null ? null : raw.length,
    contentHash: raw === null ? null : createHash('sha256').update(raw).digest('hex'),
    content_type: mediaType(m.headers),
    timestamp_start: m.timestampStart,
    timestamp_end: m.timestampEnd,
  };
}

function messagesMeta(list: ReadonlyArray<{ content: Buffer; timestamp: number }>): {
  contentLength: number;
  count: number;
  timestamp_last: number | null;
} {
  let n = 0;
  for (const m of list) n += m.content.length;
  return {
    contentLength: n,
    count: list.length,
    timestamp_last: list.length ? list[list.length - 1]!.timestamp : null,
  };
}

/** mitmweb's flow JSON (bodies left out). */
export function flowJson(f: Flow): WebFlow {
  const out: WebFlow = {
    id: f.id,
    type: f.type,
    intercepted: f.intercepted,
    is_replay: f.isReplay,
    modified: f.modified(),
    marked: f.marked,
    comment: f.comment,
    live: f.live,
    killable: f.killable,
    timestamp_created: f.timestampCreated,
    client_conn: connection(f.clientConn, null),
    server_conn: connection(f.serverConn, f.serverConn),
    error: f.error ? { msg: f.error.msg, timestamp: f.error.timestamp } : null,
  };
  if (isHttp(f)) {
    const r = f.request;
    out.request = {
      ...message(r),
      method: r.method,
      scheme: r.scheme,
      host: r.host,
      port: r.port,
      path: r.path,
      pretty_host: r.prettyHost,
      url: r.prettyUrl,
    };
    const resp = f.response;
    out.response = resp ? { ...message(resp), status_code: resp.statusCode, reason: resp.reason } : null;
    const ws = f.websocket;
    out.websocket = ws
      ? {
          messages_meta: messagesMeta(ws.messages),
          closed_by_client: ws.closedByClient,
          close_code: ws.closeCode,
          close_reason: ws.closeReason,
          timestamp_end: ws.timestampEnd,
        }
      : null;
  } else if (f.type === 'dns') {
    const d = f as DNSFlow;
    out.dns = {
      questions: d.request.questions.map((q) => ({ name: q.name, type: dnsTypeName(q.type) })),
      answers: d.response
        ? d.response.answers.map((a) => ({ name: a.name, type: dnsTypeName(a.type), ttl: a.ttl, data: a.toString() }))
        : null,
    };
  } else {
    out.messages_meta = messagesMeta((f as TCPFlow).messages);
  }
  return out;
}

/** Text if the bytes are valid UTF-8 without many control characters, else base64. */
export function textOrBase64(b: Buffer): { content: string; encoding: 'utf-8' | 'base64' } {
  const text = b.toString('utf8');
  let ctl = 0;
  const n = Math.min(text.length, 256);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || c < 9 || (c > 13 && c < 32)) ctl++;
  }
  return ctl > n * 0.1 ? { content: b.toString('base64'), encoding: 'base64' } : { content: text, encoding: 'utf-8' };
}

/** WebSocket, TCP or UDP messages of a flow (null: the flow has none). */
export function streamMessages(f: Flow, offset: number, limit: number): WebStreamMessage[] | null {
  if (isHttp(f)) {
    if (!f.websocket) return null;
    return f.websocket.messages.slice(offset, offset + limit).map((m) => ({
      from_client: m.fromClient,
      type: m.type === 1 ? 'text' : 'binary',
      timestamp: m.timestamp,
      length: m.content.length,
      dropped: m.dropped,
      injected: m.injected,
      ...(m.type === 1 ? { content: m.content.toString('utf8'), encoding: 'utf-8' as const } : textOrBase64(m.content)),
    }));
  }
  if (f.type === 'tcp' || f.type === 'udp') {
    return (f as TCPFlow).messages.slice(offset, offset + limit).map((m) => ({
      from_client: m.fromClient,
      type: 'data',
      timestamp: m.timestamp,
      length: m.content.length,
      ...textOrBase64(m.content),
    }));
  }
  return null;
}
