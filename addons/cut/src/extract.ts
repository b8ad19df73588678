import { Cert, CommandError, type Flow, HTTPFlow } from '@mitmts/sdk';

/** One cut value: text, or bytes kept as they are (bodies). */
export type CutValue = string | Buffer;

/** `header[name]` (mitmproxy's spelling) or `headers[name]`. */
const HEADER = /^headers?\[(.*)\]$/;

/** `status_code` -> `statusCode`: mitmproxy's attribute names find mitmts's camelCase ones. */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isAddress(v: unknown): v is readonly [string, number] {
  return Array.isArray(v) && v.length > 1;
}

/**
 * One value out of a flow by a cut spec, mitmproxy's attribute path from the flow:
 * `request.method`, `request.header[content-type]`, `response.status_code`, `request.content`,
 * `server_conn.address.host`, `client_conn.peername.port`. Names may be mitmproxy's snake_case
 * or mitmts's camelCase. Bytes stay bytes, booleans become `true`/`false`, certificates PEM,
 * missing values the empty string.
 * @throws CommandError for a spec naming an internal attribute (`_x`) or a method.
 */
export function extract(spec: string, f: Flow): CutValue {
  // mitmproxy issue 6721: the body of a WebSocket flow is its messages.
  if (f instanceof HTTPFlow && f.websocket && (spec === 'request.content' || spec === 'response.content')) {
    return f.websocket.messages.map((m) => `${m.fromClient ? '>>' : '<<'} ${m}`).join('\n');
  }
  const path = spec.split('.');
  let current: unknown = f;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    if (part.startsWith('_')) throw new CommandError(`Can't access internal attribute ${part} (in cut spec ${spec}).`);
    const last = i === path.length - 1;
    const header = HEADER.exec(part);
    if (header) {
      if (!last) throw new CommandError(`Invalid cut spec ${spec}: ${part} must come last.`);
      const headers = (current as { headers?: { get(n: string): string | undefined } } | null)?.headers;
      return headers?.get(header[1]!.trim()) ?? '';
    }
    if (last && isAddress(current) && (part === 'host' || part === 'port'))
      return String(current[part === 'host' ? 0 : 1]);
    current = attribute(current, part, spec);
    if (current === null || current === undefined) return '';
  }
  return toValue(current);
}

function attribute(obj: unknown, part: string, spec: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  const o = obj as Record<string, unknown>;
  const name = part in o ? part : camel(part);
  if (!(name in o)) return undefined;
  const v = o[name];
  if (typeof v === 'function') throw new CommandError(`Invalid cut spec ${spec}: ${part} is a method, not a value.`);
  return v;
}

function toValue(v: unknown): CutValue {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Cert) return v.toPem().toString('ascii');
  if (Array.isArray(v) && v[0] instanceof Cert) return v[0].toPem().toString('ascii');
  return String(v);
}

/** A value as text: UTF-8 bytes as their text, other bytes as Python's bytes repr (`b'\x00'`, as mitmproxy's CSV). */
export function cutText(v: CutValue): string {
  if (typeof v === 'string') return v;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(v);
  } catch {
    let out = "b'";
    for (const b of v) {
      if (b === 0x27 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
      else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
      else
        out += b === 0x0a ? '\\n' : b === 0x0d ? '\\r' : b === 0x09 ? '\\t' : `\\x${b.toString(16).padStart(2, '0')}`;
    }
    return `${out}'`;
  }
}
