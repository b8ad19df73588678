/** A flow's value in each sort column, and the (key, seq) order every query uses. */
import type { DNSFlow, Flow, HTTPFlow, TCPFlow } from '@mitmts/sdk';
import type { Cursor, SortColumn, SortKey } from './backend.js';

const isHttp = (f: Flow): f is HTTPFlow => f.type === 'http';

/** Bytes of a message body as stored (still content-encoded), 0 when absent. */
const bodySize = (m: { rawContent: Buffer | null } | null): number => m?.rawContent?.length ?? 0;

/** When the flow's last part arrived (seconds), or null while nothing has. */
export function flowEnd(f: Flow): number | null {
  if (isHttp(f)) return f.websocket?.timestampEnd ?? f.response?.timestampEnd ?? f.error?.timestamp ?? null;
  if (f.type === 'dns') return (f as DNSFlow).response?.timestamp ?? f.error?.timestamp ?? null;
  const ms = (f as TCPFlow).messages;
  return ms.length ? ms[ms.length - 1]!.timestamp : (f.error?.timestamp ?? null);
}

/** When the flow started (the request for HTTP flows). */
export const flowStart = (f: Flow): number => (isHttp(f) ? f.request.timestampStart : f.timestampCreated);

/** Address of the server as `host:port`, for flows without a URL. */
export function serverAddress(f: Flow): string {
  const a = f.serverConn.address;
  return a ? `${a[0]}:${a[1]}` : '';
}

export function flowUrl(f: Flow): string {
  if (isHttp(f)) return f.request.prettyUrl;
  if (f.type === 'dns') return (f as DNSFlow).request.questions[0]?.name ?? '';
  return serverAddress(f);
}

export function flowHost(f: Flow): string {
  if (isHttp(f)) return f.request.prettyHost;
  const a = f.serverConn.address;
  return a ? String(a[0]) : '';
}

/** Request plus response body bytes (HTTP), message bytes (TCP/UDP, WebSocket). */
export function flowSize(f: Flow): number {
  if (isHttp(f)) {
    let n = bodySize(f.request) + bodySize(f.response);
    if (f.websocket) for (const m of f.websocket.messages) n += m.content.length;
    return n;
  }
  if (f.type === 'tcp' || f.type === 'udp') {
    let n = 0;
    for (const m of (f as TCPFlow).messages) n += m.content.length;
    return n;
  }
  return 0;
}

const KEYS: Readonly<Record<SortColumn, (f: Flow, seq: number) => SortKey>> = {
  seq: (_f, seq) => seq,
  created: (f) => f.timestampCreated,
  method: (f) => (isHttp(f) ? f.request.method : f.type.toUpperCase()),
  url: flowUrl,
  host: flowHost,
  status: (f) => (isHttp(f) ? (f.response?.statusCode ?? (f.error ? 0 : -1)) : -1),
  size: flowSize,
  duration: (f) => {
    const end = flowEnd(f);
    return end === null ? -1 : Math.max(0, end - flowStart(f));
  },
  type: (f) => f.type,
};

export function sortKey(column: SortColumn, flow: Flow, seq: number): SortKey {
  return KEYS[column](flow, seq);
}

/** Ascending (key, seq) order: negative if a comes first. */
export function compareCursors(a: Cursor, b: Cursor): number {
  const ka = a.key;
  const kb = b.key;
  if (ka !== kb) {
    if (typeof ka === 'number' && typeof kb === 'number') return ka - kb;
    return String(ka) < String(kb) ? -1 : 1;
  }
  return a.seq - b.seq;
}
