/**
 * Request smuggling attempts from a real client that can be told to break the rules: Python's
 * `h2` (Debian's python3-h2) with outbound validation off, over h2c to the codec in server role.
 * Each bad request is a stream error (RST_STREAM PROTOCOL_ERROR), nothing of it reaches the app,
 * and the connection goes on.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, Http2ErrorCodes } from '../../src/proxy/http2/index.js';
import { codecServer } from './adapter.js';
import { raw } from './helpers.js';
import { ensurePythonH2, run } from './tools.js';

const py = ensurePythonH2();
const missing = 'missing' in py ? py.missing : null;
if (missing) console.warn(`HTTP/2 smuggling tests with python3-h2 skipped: ${missing}`);

// Sends one stream per case, then a good request; prints one JSON line per event.
const CLIENT = `
import json, socket, sys
import h2.config, h2.connection, h2.events
port = int(sys.argv[1])
s = socket.create_connection(('127.0.0.1', port))
c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, validate_outbound_headers=False, normalize_outbound_headers=False, validate_inbound_headers=False))
c.initiate_connection()
base = [(':method', 'POST'), (':scheme', 'http'), (':authority', 'example.com'), (':path', '/')]
cases = [
  (base + [('content-length', '10')], b'abc'),                 # CL longer than the body
  (base + [('content-length', '2')], b'abcdef'),               # CL shorter than the body
  (base + [('transfer-encoding', 'chunked')], b'0\\r\\n\\r\\n'), # TE in HTTP/2
  (base + [('connection', 'keep-alive')], b''),                # connection-specific
  ([(':method', 'GET'), (':path', '/'), (':authority', 'example.com')], None),  # no :scheme
  (base + [('x-evil', 'a\\r\\nInjected: yes')], b''),          # CRLF in a value
  ([(':method', 'GET'), (':scheme', 'http'), (':authority', 'example.com'), (':path', '/ok')], None),
]
for i, (headers, body) in enumerate(cases):
  sid = 1 + 2 * i
  c.send_headers(sid, headers, end_stream=body is None)
  if body is not None:
    c.send_data(sid, body, end_stream=True)
s.sendall(c.data_to_send())
open_streams = len(cases)
while open_streams > 0:
  data = s.recv(65535)
  if not data:
    break
  for e in c.receive_data(data):
    if isinstance(e, h2.events.StreamReset):
      print(json.dumps({'reset': e.stream_id, 'code': int(e.error_code)})); open_streams -= 1
    elif isinstance(e, h2.events.ResponseReceived):
      print(json.dumps({'response': e.stream_id, 'headers': [[k.decode(), v.decode()] for k, v in e.headers]}))
    elif isinstance(e, h2.events.StreamEnded):
      open_streams -= 1
    elif isinstance(e, h2.events.ConnectionTerminated):
      print(json.dumps({'goaway': int(e.error_code)})); open_streams = 0
  s.sendall(c.data_to_send())
s.close()
`;

describe.skipIf(missing !== null)('smuggling attempts from python3-h2 (codec in server role, h2c)', () => {
  it('each bad request is reset with PROTOCOL_ERROR, only the good one reaches the app', async () => {
    const server = await codecServer((r) =>
      r.conn.sendHeaders(r.id, { status: 200, headers: raw([['x-path', r.head.path]]) }, true),
    );
    try {
      const out = await run((py as { python: string }).python, ['-c', CLIENT, String(server.port)]);
      expect(out.err).toBe('');
      const events = out.out
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { reset?: number; code?: number; response?: number; goaway?: number });
      expect(events.filter((e) => e.reset !== undefined)).toEqual(
        [1, 3, 5, 7, 9, 11].map((id) => ({ reset: id, code: ErrorCode.PROTOCOL_ERROR })),
      );
      expect(events.filter((e) => e.response !== undefined).map((e) => e.response)).toEqual([13]);
      expect(events.some((e) => e.goaway !== undefined)).toBe(false);
      expect(server.log.received.map((r) => r.head.path)).toEqual(['/ok']);
      const codes = server.log.streamErrors.map((e) => [e.streamId, e.code]);
      expect(codes).toEqual([
        [1, Http2ErrorCodes.CONTENT_LENGTH],
        [3, Http2ErrorCodes.CONTENT_LENGTH],
        [5, Http2ErrorCodes.MALFORMED],
        [7, Http2ErrorCodes.MALFORMED],
        [9, Http2ErrorCodes.MALFORMED],
        [11, Http2ErrorCodes.MALFORMED],
      ]);
    } finally {
      await server.close();
    }
  });
});
