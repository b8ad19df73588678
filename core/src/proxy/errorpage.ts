import { Headers, Response } from '../flow/index.js';
import { RESPONSES } from '../flow/status-codes.js';

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** mitmproxy's short error page: `<status> <reason>` and the message, `Connection: close`. */
export function errorResponse(statusCode: number, message: string): Response {
  const reason = RESPONSES[statusCode] ?? 'Error';
  const body = Buffer.from(
    `<html>\n<head>\n    <title>${statusCode} ${reason}</title>\n</head>\n<body>\n    <h1>${statusCode} ${reason}</h1>\n    <p>${escape(message)}</p>\n</body>\n</html>\n`,
  );
  const now = Date.now() / 1000;
  return new Response({
    httpVersion: 'HTTP/1.1',
    statusCode,
    reason,
    headers: new Headers([
      ['Server', 'mitmts'],
      ['Connection', 'close'],
      ['Content-Type', 'text/html'],
      ['Content-Length', String(body.length)],
    ]),
    content: body,
    timestampStart: now,
    timestampEnd: now,
  });
}
