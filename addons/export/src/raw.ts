import { CommandError, type Flow, HTTPFlow, http1, type Request } from '@mitmts/sdk';
import { cleanRequest, cleanResponse } from './message.js';

function target(r: Request): string {
  switch (r.firstLineFormat) {
    case 'authority':
      return `${r.host}:${r.port}`;
    case 'absolute':
      return r.url;
    default:
      return r.path;
  }
}

/** The request as HTTP/1 bytes (head, decoded body, trailers for a chunked body). */
export function rawRequest(f: Flow): Buffer {
  const r = cleanRequest(f);
  if (r.rawContent === null) throw new CommandError('Request content missing.');
  const head = { method: r.method, target: target(r), httpVersion: r.httpVersion, headers: r.headers.fields };
  return http1.serializeRequest(head, r.rawContent, r.trailers?.fields ?? null, { validate: false });
}

/** The response as HTTP/1 bytes. */
export function rawResponse(f: Flow): Buffer {
  const r = cleanResponse(f);
  if (r.rawContent === null) throw new CommandError('Response content missing.');
  const head = { httpVersion: r.httpVersion, statusCode: r.statusCode, reason: r.reason, headers: r.headers.fields };
  return http1.serializeResponse(head, r.rawContent, 'GET', r.trailers?.fields ?? null, { validate: false });
}

/** Request and response (whichever the flow has), separated by an empty line; WebSocket messages after them. */
export function raw(f: Flow): Buffer {
  const http = f instanceof HTTPFlow ? f : null;
  const hasRequest = http?.request?.rawContent != null;
  const hasResponse = http?.response?.rawContent != null;
  if (hasRequest && hasResponse) {
    const parts = [rawRequest(f), rawResponse(f)];
    if (http!.websocket) parts.push(Buffer.from(http!.websocket.messages.map((m) => `${m.fromClient ? '>>' : '<<'} ${m}`).join('\n'), 'utf8'));
    return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [SEPARATOR, p])));
  }
  if (hasRequest) return rawRequest(f);
  if (hasResponse) return rawResponse(f);
  throw new CommandError("Can't export flow with no request or response.");
}

const SEPARATOR = Buffer.from('\r\n\r\n', 'latin1');
