/**
 * A small, deterministic capture of an API client, for the recon tests of `mitmts flows`:
 * a REST API with ids in paths, bearer tokens, cookies, an API key in the query, an OAuth token
 * response, a streamed (SSE) answer, a form post, an upload, an image, a 40 KB header and a
 * body nested deeper than anything sane.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Headers, tflow, treq, tresp, type HTTPFlow } from '../../src/flow/index.js';
import { FlowReader, FlowWriter } from '../../src/io/index.js';
import { FLOWS_MITM } from './fixtures.js';

export const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
export const API_KEY = 'sk-test-0123456789abcdefghijklmnop';

let t = 1_700_000_000;

function api(
  method: string,
  path: string,
  opts: {
    reqHeaders?: Array<[string, string]>;
    reqBody?: string | Buffer;
    status?: number;
    type?: string;
    body?: string | Buffer;
    respHeaders?: Array<[string, string]>;
  } = {},
): HTTPFlow {
  t += 1;
  const req = treq({
    host: 'api.example.com',
    port: 443,
    scheme: 'https',
    method,
    path,
    headers: new Headers([
      ['host', 'api.example.com'],
      ['authorization', `Bearer ${TOKEN}`],
      ['user-agent', 'client/1.0'],
      ...(opts.reqHeaders ?? []),
    ]),
    content: typeof opts.reqBody === 'string' ? Buffer.from(opts.reqBody) : (opts.reqBody ?? Buffer.alloc(0)),
    timestampStart: t,
    timestampEnd: t + 0.01,
  });
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : (opts.body ?? Buffer.alloc(0));
  const resp = tresp({
    statusCode: opts.status ?? 200,
    reason: 'OK',
    headers: new Headers([['content-type', opts.type ?? 'application/json'], ...(opts.respHeaders ?? [])]),
    content: body,
    timestampStart: t + 0.05,
    timestampEnd: t + 0.06,
  });
  const f = tflow({ req, resp });
  f.timestampCreated = t;
  return f;
}

const user = (id: number, extra: object = {}): string =>
  JSON.stringify({ id, name: `user ${id}`, email: `u${id}@example.com`, created: '2024-01-02T03:04:05Z', ...extra });

/** The flows, in capture order. */
export function apiFlows(): HTTPFlow[] {
  t = 1_700_000_000;
  const tls = [...new FlowReader(FLOWS_MITM)].find((f) => f.serverConn.certificateList.length > 0)!;
  const flows = [
    api('GET', '/v1/users/123', { body: user(123, { manager: null }) }),
    api('GET', '/v1/users/456', { body: user(456, { manager: { id: 123 }, tags: ['a', 'b'] }) }),
    api('GET', '/v1/users/789', { status: 404, body: '{"error":"not found"}' }),
    api('GET', '/v1/users/123', { body: user(123, { manager: null }) }),
    api('GET', `/v1/search?q=cats&api_key=${API_KEY}&page=2`, { body: '{"results":[],"total":0}' }),
    api('POST', '/oauth/token', {
      reqHeaders: [['content-type', 'application/x-www-form-urlencoded']],
      reqBody: 'grant_type=password&username=alice&password=hunter2',
      body: JSON.stringify({ access_token: 'at-secret-value-1234567890', token_type: 'Bearer', expires_in: 3600 }),
      respHeaders: [['set-cookie', 'session=s3cr3t-session; Path=/; HttpOnly']],
    }),
    api('POST', '/v1/messages', {
      reqHeaders: [
        ['content-type', 'application/json'],
        ['x-api-key', API_KEY],
        ['cookie', 'session=s3cr3t-session; theme=dark'],
      ],
      reqBody: JSON.stringify({
        model: 'm-1',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      type: 'text/event-stream',
      body: gzipSync(
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","usage":{"input_tokens":3}}}\n\n' +
          'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"Hel"}}\n\n' +
          'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"lo"}}\n\n' +
          ': keep-alive\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
      ),
      respHeaders: [['content-encoding', 'gzip']],
    }),
    api('POST', '/v1/files', {
      reqHeaders: [['content-type', 'multipart/form-data; boundary=XyZ']],
      reqBody: Buffer.concat([
        Buffer.from(
          '--XyZ\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--XyZ\r\ncontent-disposition: form-data; name="file"; filename="a.bin"\r\n\r\n',
        ),
        Buffer.from([0, 1, 2, 3, 0, 0, 0, 255, 254, 0, 7]),
        Buffer.from('\r\n--XyZ--\r\n'),
      ]),
      body: '{"id":"file-abc123def456ghi789","bytes":11}',
    }),
    api('GET', '/v1/files/file-abc123def456ghi789/content', {
      type: 'image/png',
      body: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 7)]),
    }),
    api('GET', '/v1/orders/9f1c2b3a-0d4e-4f5a-8b6c-7d8e9f0a1b2c/items/42', {
      body: '[{"sku":"A-1","qty":2,"price":9.5},{"sku":"B-2","qty":1,"price":null}]',
    }),
    api('GET', '/v1/big-header', { reqHeaders: [['x-trace', 'x'.repeat(40_000)]], body: '{}' }),
    api('GET', '/v1/deep', { body: '['.repeat(5000) + ']'.repeat(5000) }),
  ];
  // A TLS server certificate, as a real capture records one per server connection.
  flows[0]!.serverConn.certificateList = tls.serverConn.certificateList;
  return flows;
}

/** The capture as a .mitm file (format 21); returns its path. */
export async function apiCaptureFile(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'mitmts-recon-')), 'api.mitm');
  const w = new FlowWriter(path);
  for (const f of apiFlows()) w.add(f);
  await w.close();
  return path;
}
