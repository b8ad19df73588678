/** `mitmts flows` for recon, on a capture of an API client (api-capture.ts). */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tnetstring } from '../../src/io/index.js';
import { API_KEY, apiCaptureFile, apiFlows, TOKEN } from './api-capture.js';
import { FLOWS_MITM } from './fixtures.js';
import { runFlows } from './run-flows.js';

const run = runFlows;

const SECRETS = [TOKEN, API_KEY, 'hunter2', 's3cr3t-session', 'at-secret-value-1234567890'];
const EVERYTHING = [
  'request.url',
  'request.path',
  'request.query',
  'request.cookies',
  'request.headers',
  'request.headers.authorization',
  'request.headers.x-api-key',
  'request.content',
  'response.headers',
  'response.cookies',
  'response.content',
].join(',');

let capture: string;
beforeAll(async () => {
  capture = await apiCaptureFile();
});

describe('mitmts flows: reading an API capture', () => {
  it('prints bodies as values: JSON, forms, multipart, event streams; binary summarised', async () => {
    const r = await run([capture, '--fields', 'request.path,request.content,response.content']);
    expect(r.code).toBe(0);
    expect(r.lines).toMatchSnapshot();
  });

  it('groups by endpoint with ids collapsed, and infers schemas merged across examples', async () => {
    const r = await run([capture, '--group', 'endpoint', '--schema']);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => [l.endpoint, l.count])).toEqual([
      ['GET api.example.com/v1/users/{id}', 4],
      ['GET api.example.com/v1/big-header', 1],
      ['GET api.example.com/v1/deep', 1],
      ['GET api.example.com/v1/files/{id}/content', 1],
      ['GET api.example.com/v1/orders/{id}/items/{id}', 1],
      ['GET api.example.com/v1/search', 1],
      ['POST api.example.com/oauth/token', 1],
      ['POST api.example.com/v1/files', 1],
      ['POST api.example.com/v1/messages', 1],
    ]);
    const users = r.lines[0];
    expect(users).toMatchObject({
      statuses: { 200: 3, 404: 1 },
      response_content_types: { 'application/json': 4 },
      response_schema: {
        id: 'integer',
        name: 'string',
        email: 'string(email)',
        created: 'string(date-time)',
        manager: { oneOf: [{ id: 'integer' }, 'null'] },
        'tags?': ['string'],
      },
      error_schema: { error: 'string' },
    });
    // One example, the first successful one, with secrets redacted.
    expect(users.example['request.url']).toBe('https://api.example.com/v1/users/123');
    const messages = r.lines.find((l) => l.endpoint.endsWith('/v1/messages'));
    expect(messages.request_schema).toEqual({
      model: 'string',
      max_tokens: 'integer',
      stream: 'boolean',
      messages: [{ role: 'string', content: 'string' }],
    });
    expect(Object.keys(messages.response_event_schema)).toEqual([
      'message_start',
      'content_block_delta',
      'message_stop',
    ]);
    expect(r.lines.map((l) => ({ ...l, example: undefined }))).toMatchSnapshot();
  });

  it('redacts secrets everywhere by default, and marks each redaction; --no-redact keeps them', async () => {
    for (const argv of [[EVERYTHING], ['--group', 'endpoint', '--schema'], ['--dedup'], []]) {
      const args = argv.length && !argv[0]!.startsWith('--') ? ['--fields', ...argv] : argv;
      const r = await run([capture, ...args, '--max-line', '0']);
      for (const s of SECRETS) expect(r.out, `${s} with ${args.join(' ')}`).not.toContain(s);
    }
    const r = await run([capture, '--fields', EVERYTHING, '--max-line', '0']);
    const byPath = (p: string): any => r.lines.find((l) => l['request.path'].startsWith(p));
    expect(byPath('/v1/users/123')['request.headers.authorization']).toBe(`Bearer <redacted ${TOKEN.length} chars>`);
    expect(byPath('/v1/search')['request.query']).toEqual({
      q: 'cats',
      api_key: `<redacted ${API_KEY.length} chars>`,
      page: '2',
    });
    expect(byPath('/v1/search')['request.url']).toContain('api_key=%3Credacted%2034%20chars%3E&page=2');
    expect(byPath('/oauth/token')['request.content'].data).toEqual({
      grant_type: 'password',
      username: 'alice',
      password: '<redacted 7 chars>',
    });
    expect(byPath('/oauth/token')['response.content'].data).toEqual({
      access_token: '<redacted 26 chars>',
      token_type: 'Bearer',
      expires_in: 3600,
    });
    expect(byPath('/oauth/token')['response.cookies']).toEqual({
      session: { value: '<redacted 14 chars>', Path: '/', HttpOnly: true },
    });
    expect(byPath('/v1/messages')['request.cookies']).toEqual({
      session: '<redacted 14 chars>',
      theme: '<redacted 4 chars>',
    });
    expect(byPath('/v1/messages')['request.content'].data.max_tokens).toBe(100);
    const raw = await run([capture, '--fields', EVERYTHING, '--max-line', '0', '--no-redact']);
    for (const s of SECRETS) expect(raw.out).toContain(s);
  });

  it('bounds every line, headers included (--max-line), marking shortened lines', async () => {
    for (const max of [256, 1000, 8192]) {
      const r = await run([capture, '--fields', EVERYTHING, '--max-line', String(max)]);
      expect(r.lines).toHaveLength(12);
      for (const line of r.out.trimEnd().split('\n'))
        expect(Buffer.byteLength(line), `--max-line ${max}`).toBeLessThanOrEqual(max);
      const big = r.lines[10];
      expect(big._cut).toBe(`line shortened to --max-line ${max}`);
      // The big field is shortened first; the small ones stay whole.
      if (max >= 1000) {
        expect(big['request.headers'][3][1]).toMatch(/^x+…\[\+\d+ chars\]$/);
        expect(big['request.url']).toBe('https://api.example.com/v1/big-header');
      }
    }
    // The default bound is 8 KiB; 0 lifts it.
    const unbounded = await run([capture, '~u big-header', '--fields', 'request.headers', '--max-line', '0']);
    expect(unbounded.lines[0]['request.headers'][3][1]).toBe('x'.repeat(40_000));
    expect((await run([capture, '--max-line', '100'])).err).toMatch(
      /--max-line must be 0 \(no bound\) or at least 256 bytes, got 100/,
    );
  });

  it('stops at the output budget with a marker saying how much was left out', async () => {
    const all = await run([capture]);
    const r = await run([capture, '--budget', '2k']);
    expect(Buffer.byteLength(r.out)).toBeLessThanOrEqual(2048);
    const marker = r.lines.at(-1)._truncated;
    expect(marker).toMatchObject({ reason: 'output budget reached', budget_bytes: 2048, unit: 'flows' });
    expect(marker.printed).toBe(r.lines.length - 1);
    expect(marker.printed + marker.left_out).toBe(all.lines.length);
    expect(r.lines.slice(0, -1)).toEqual(all.lines.slice(0, marker.printed));
    const tokens = await run([capture, '--budget-tokens', '500', '--group', 'endpoint']);
    expect(Buffer.byteLength(tokens.out)).toBeLessThanOrEqual(1500);
    expect(tokens.lines.at(-1)._truncated).toMatchObject({ unit: 'endpoints', budget_bytes: 1500 });
    expect((await run([capture, '--budget', '1e3'])).err).toMatch(/--budget needs a number of bytes/);
  });

  it('--dedup prints each distinct request once, with a count', async () => {
    const r = await run([capture, '--dedup', '--fields', 'request.method,request.path,response.status_code']);
    expect(r.lines).toHaveLength(11);
    expect(r.lines[0]).toEqual({
      'request.method': 'GET',
      'request.path': '/v1/users/123',
      'response.status_code': 200,
      count: 2,
    });
    expect(r.lines.slice(1).every((l) => l.count === 1)).toBe(true);
  });

  it('prints certificate fields: subject, issuer, names, validity, fingerprint', async () => {
    const r = await run([capture, '--fields', 'server_conn.certificate,server_conn.certificate_list', '--limit', '1']);
    const cert = r.lines[0]['server_conn.certificate'];
    const leaf = apiFlows()[0]!.serverConn.certificateList[0]!;
    expect(cert).toEqual({
      subject: 'CN=localhost',
      issuer: 'CN=localhost',
      sans: ['localhost', '127.0.0.1'],
      not_before: leaf.notbefore.toISOString(),
      not_after: leaf.notafter.toISOString(),
      serial: leaf.x509.serialNumber,
      sha256: leaf.x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    });
    expect(r.lines[0]['server_conn.certificate_list']).toEqual([cert]);
  });
});

describe('mitmts flows: files and errors', () => {
  it('never takes a missing or unreadable file for a filter: exit 2, one line naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-recon-'));
    const cases: Array<[string[], string]> = [
      [
        [FLOWS_MITM, join(dir, 'missing.mitm')],
        `${join(dir, 'missing.mitm')}: no such file. Give the flow files first, then the filter (or use --filter).`,
      ],
      [
        [FLOWS_MITM, 'capture.har'],
        'capture.har: no such file. Give the flow files first, then the filter (or use --filter).',
      ],
      [
        [FLOWS_MITM, 'flows.db'],
        'flows.db: no such file. Give the flow files first, then the filter (or use --filter).',
      ],
      [[dir], `${dir}: is a directory, not a flow file`],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(argv);
      expect(r, argv.join(' ')).toMatchObject({ code: 2, out: '', err: `mitmts flows: ${msg}\n` });
    }
    // A filter is still a filter.
    expect((await run([FLOWS_MITM, '~m PUT', '--fields', 'request.method'])).lines).toEqual([
      { 'request.method': 'PUT' },
    ]);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.mitm');
      writeFileSync(locked, readFileSync(FLOWS_MITM));
      chmodSync(locked, 0);
      expect(await run([locked])).toMatchObject({
        code: 2,
        err: `mitmts flows: ${locked}: cannot read it (permission denied)\n`,
      });
    }
    mkdirSync(join(dir, 'sub.mitm'));
    expect((await run([join(dir, 'sub.mitm')])).code).toBe(2);
  });

  it('reports a record nested too deep in one line naming the file and the record (no stack overflow)', async () => {
    const bytes = readFileSync(FLOWS_MITM);
    const first = bytes.subarray(0, tnetstring.measure(bytes, 0, bytes.length)).toString('latin1');
    let deep = '0:]';
    for (let i = 0; i < 100_000; i++) deep = `${deep.length}:${deep}]`;
    const meta = `1:x;${deep}`;
    const body = first
      .slice(first.indexOf(':') + 1, -1)
      .replace('8:metadata;0:}', `8:metadata;${meta.length}:${meta}}`);
    const path = join(mkdtempSync(join(tmpdir(), 'mitmts-recon-')), 'deep.mitm');
    writeFileSync(path, Buffer.concat([bytes, Buffer.from(`${Buffer.byteLength(body, 'latin1')}:${body}}`, 'latin1')]));
    const r = await run([path, '--fields', 'request.path']);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(15);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(
      new RegExp(
        `^mitmts flows: ${path}: flow record #16 at byte ${bytes.length} is damaged: value at byte \\d+ nests lists and dicts more than 1000 levels deep`,
      ),
    );
  });
});
