import { assembleRequest, assembleResponse, CommandError, type Flow, HTTPFlow } from '@mitmts/sdk';
import { cleanRequest, cleanResponse } from './message.js';

/** The request as HTTP/1 bytes (head, decoded body, trailers for a chunked body). */
export function rawRequest(f: Flow): Buffer {
  const r = cleanRequest(f);
  if (r.rawContent === null) throw new CommandError('Request content missing.');
  return assembleRequest(r);
}

/** The response as HTTP/1 bytes. */
export function rawResponse(f: Flow): Buffer {
  const r = cleanResponse(f);
  if (r.rawContent === null) throw new CommandError('Response content missing.');
  return assembleResponse(r);
}

/** Request and response (whichever the flow has), separated by an empty line; WebSocket messages after them. */
export function raw(f: Flow): Buffer {
  const http = f instanceof HTTPFlow ? f : null;
  const hasRequest = http?.request?.rawContent != null;
  const hasResponse = http?.response?.rawContent != null;
  if (hasRequest && hasResponse) {
    const parts = [rawRequest(f), rawResponse(f)];
    if (http!.websocket)
      parts.push(
        Buffer.from(http!.websocket.messages.map((m) => `${m.fromClient ? '>>' : '<<'} ${m}`).join('\n'), 'utf8'),
      );
    return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [SEPARATOR, p])));
  }
  if (hasRequest) return rawRequest(f);
  if (hasResponse) return rawResponse(f);
  throw new CommandError("Can't export flow with no request or response.");
}

const SEPARATOR = Buffer.from('\r\n\r\n', 'latin1');
