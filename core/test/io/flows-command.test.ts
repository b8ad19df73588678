/** `mitmts flows` end to end on the recorded fixtures. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyJson, DEFAULT_FIELDS, FLOWS_HELP, parseFlowsArgs, tnetstring } from '../../src/io/index.js';
import { expected, FLOWS_MITM } from './fixtures.js';
import { runFlows } from './run-flows.js';

const HAR = fileURLToPath(new URL('../../../test/fixtures/har/browser.har', import.meta.url));
const exp = expected();
/** The PNG the fixture server sent (mitmproxy's own dump of the flow). */
const pngBytes = (): Buffer =>
  Buffer.from(exp.flows.find((f) => f.request.path === '/image.png')!.response.content, 'base64');

const run = runFlows;

describe('mitmts flows', () => {
  it('prints every flow with the default fields, in file order', async () => {
    const r = await run([FLOWS_MITM]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.lines.map((l) => l.id)).toEqual(exp.flows.map((f) => f.id));
    for (const l of r.lines) expect(Object.keys(l)).toEqual([...DEFAULT_FIELDS]);
    const plain = r.lines[0];
    expect(plain).toEqual({
      id: exp.flows[0].id,
      type: 'http',
      timestamp_created: exp.flows[0].timestamp_created,
      'request.method': 'GET',
      'request.url': exp.flows[0].request.pretty_url,
      'request.content': { size: 0, encoding: 'empty' },
      'response.status_code': 200,
      'response.content_type': 'text/plain',
      'response.content': {
        size: 35,
        encoding: 'utf-8',
        truncated: false,
        data: 'hello from the fixture server, x=1\n',
      },
      error: null,
    });
    const tcp = r.lines[14];
    expect(tcp).toMatchObject({ type: 'tcp', 'request.method': null, 'response.status_code': null, error: null });
    expect(r.lines[12].error).toMatch(/Connect call failed/);
  });

  it('applies the filter exactly as mitmproxy does', async () => {
    for (const { expr, matches } of exp.filters.filter((_, i) => i % 7 === 0)) {
      const r = await run([FLOWS_MITM, expr, '--fields', 'id']);
      expect(r.code, expr).toBe(0);
      expect(
        r.lines.map((l) => l.id),
        expr,
      ).toEqual(matches);
    }
    const viaFlag = await run(['--filter', '~c 404', FLOWS_MITM, '--fields=id']);
    expect(viaFlag.lines).toEqual([{ id: exp.filters.find((f) => f.expr === '~c 404')!.matches[0] }]);
  });

  it('prints the fields asked for, in that order, headers as pairs and one header by name', async () => {
    const r = await run([
      FLOWS_MITM,
      '~hs set-cookie',
      '--fields',
      'request.method,request.url,response.status_code,response.headers,response.headers.set-cookie,request.headers.COOKIE',
    ]);
    expect(r.lines).toHaveLength(1);
    const [l] = r.lines;
    expect(Object.keys(l)).toEqual([
      'request.method',
      'request.url',
      'response.status_code',
      'response.headers',
      'response.headers.set-cookie',
      'request.headers.COOKIE',
    ]);
    expect(l['response.headers']).toEqual(
      exp.flows[4].response.headers.map(([k, v]: [string, string]) => [
        k,
        k === 'Set-Cookie'
          ? v.replace(/^(\w+)=(\w+)/, (_m: string, n: string, x: string) => `${n}=<redacted ${x.length} chars>`)
          : v,
      ]),
    );
    expect(l['response.headers.set-cookie']).toBe(
      'session=<redacted 6 chars>; Path=/; HttpOnly, theme=dark; Path=/app; SameSite=Lax; Max-Age=3600',
    );
    expect(l['request.headers.COOKIE']).toBe('prior=<redacted 1 char>; other=<redacted 3 chars>');
    const raw = await run([
      FLOWS_MITM,
      '~hs set-cookie',
      '--no-redact',
      '--fields',
      'response.headers,response.headers.set-cookie,request.headers.COOKIE',
    ]);
    expect(raw.lines[0]['response.headers']).toEqual(exp.flows[4].response.headers);
    expect(raw.lines[0]['response.headers.set-cookie']).toBe(
      'session=abc123; Path=/; HttpOnly, theme=dark; Path=/app; SameSite=Lax; Max-Age=3600',
    );
    expect(raw.lines[0]['request.headers.COOKIE']).toBe('prior=1; other=two');
  });

  it('decodes bodies (gzip, br, h2), prints JSON as values, summarises binary, cuts at --max-body', async () => {
    const r = await run([
      FLOWS_MITM,
      '~bs décodé | ~bs GzipPayload | ~ts image',
      '--fields',
      'request.url,response.content',
      '--max-body',
      '20',
    ]);
    const [gz, br, png] = r.lines;
    // JSON is shrunk (not cut mid-token) to fit 20 bytes, and says so.
    expect(gz['response.content']).toMatchObject({ size: 58, encoding: 'json', truncated: true });
    expect(Buffer.byteLength(JSON.stringify(gz['response.content'].data))).toBeLessThanOrEqual(20);
    expect(br['response.content'].truncated).toBe(true);
    expect(Buffer.byteLength(br['response.content'].data)).toBeLessThanOrEqual(20);
    expect(png['response.content']).toEqual({
      size: 70,
      encoding: 'binary',
      type: 'image/png',
      sha256: createHash('sha256').update(pngBytes()).digest('hex'),
    });
    const whole = await run([FLOWS_MITM, '~bs GzipPayload', '--fields', 'response.content']);
    expect(whole.lines[0]['response.content']).toEqual({
      size: 58,
      encoding: 'json',
      truncated: false,
      data: { compressed: 'gzip', items: [1, 2, 3], note: 'GzipPayload' },
    });
    const b64 = await run([
      FLOWS_MITM,
      '~ts image',
      '--fields',
      'response.content',
      '--max-body',
      '20',
      '--binary',
      'base64',
    ]);
    expect(b64.lines[0]['response.content']).toMatchObject({ encoding: 'base64', truncated: true, size: 70 });
    expect(Buffer.from(b64.lines[0]['response.content'].data, 'base64')).toEqual(pngBytes().subarray(0, 20));
    // Cutting "héllo" after the first byte of "é" backs off to "h".
    expect(bodyJson(Buffer.from('héllo'), 'text/plain; charset=utf-8', 2)).toEqual({
      size: 6,
      encoding: 'utf-8',
      truncated: true,
      data: 'h',
    });
    expect(bodyJson(Buffer.from('héllo'), undefined, 3).data).toBe('hé');
  });

  it('bounds WebSocket and TCP messages with --max-messages', async () => {
    const r = await run([
      FLOWS_MITM,
      '~websocket | ~tcp',
      '--fields',
      'websocket.messages,websocket.message_count,messages,message_count',
      '--max-messages',
      '2',
    ]);
    expect(r.lines[0]['websocket.messages']).toHaveLength(2);
    expect(r.lines[0]['websocket.message_count']).toBe(6);
    expect(r.lines[0]['websocket.messages'][1]).toMatchObject({
      from_client: true,
      type: 'binary',
      content: { size: 4, encoding: 'binary', type: 'application/octet-stream' },
    });
    const b64 = await run([
      FLOWS_MITM,
      '~websocket',
      '--fields',
      'websocket.messages',
      '--max-messages',
      '2',
      '--binary',
      'base64',
    ]);
    expect(b64.lines[0]['websocket.messages'][1].content).toMatchObject({ encoding: 'base64', data: 'AAH+/w==' });
    expect(r.lines[1].messages).toHaveLength(2);
    expect(r.lines[1].message_count).toBe(4);
  });

  it('--limit stops after N matching flows', async () => {
    const r = await run([FLOWS_MITM, '~s', '--limit', '3', '--fields', 'id']);
    expect(r.lines.map((l) => l.id)).toEqual(exp.filters.find((f) => f.expr === '~s')!.matches.slice(0, 3));
    expect((await run([FLOWS_MITM, '--limit', '0'])).lines).toEqual([]);
  });

  it('--summary counts by type, host, method, status and content type', async () => {
    const r = await run([FLOWS_MITM, '--summary']);
    expect(r.lines).toEqual([
      {
        flows: 15,
        by_type: [
          ['http', 14],
          ['tcp', 1],
        ],
        by_host: [
          ['127.0.0.1', 12],
          ['localhost', 2],
          ['127.0.0.2', 1],
        ],
        by_method: [
          ['GET', 12],
          ['POST', 1],
          ['PUT', 1],
        ],
        by_status: [
          ['200', 9],
          ['101', 1],
          ['201', 1],
          ['302', 1],
          ['404', 1],
          ['error', 1],
        ],
        by_content_type: [
          ['application/json', 3],
          ['text/html', 3],
          ['text/plain', 3],
          ['(none)', 2],
          ['application/javascript', 1],
          ['image/png', 1],
          ['text/css', 1],
        ],
      },
    ]);
    const filtered = await run([FLOWS_MITM, '~m PUT', '--summary']);
    expect(filtered.lines[0].flows).toBe(1);
  });

  it('reads HAR files, several files in order, and standard input', async () => {
    const har = await run([HAR, '--fields', 'request.method,request.url,response.status_code,file']);
    expect(har.lines.map((l) => l['response.status_code'])).toEqual([200, 200, 302]);
    expect(har.lines[0].file).toBe(HAR);
    const both = await run([HAR, FLOWS_MITM, '~c 302', '--fields', 'file']);
    expect(both.lines.map((l) => l.file)).toEqual([HAR, FLOWS_MITM]);
    const stdin = await run(['-', '~tcp', '--fields', 'type,file'], Readable.from([readFileSync(FLOWS_MITM)]));
    expect(stdin.lines).toEqual([{ type: 'tcp', file: '<stdin>' }]);
  });

  it('prints the flows before a damaged record, then the error, and exits 1', async () => {
    const bytes = readFileSync(FLOWS_MITM);
    let cut = 0;
    for (let i = 0; i < 3; i++) cut += tnetstring.measure(bytes, cut, bytes.length);
    const path = join(mkdtempSync(join(tmpdir(), 'mitmts-flows-')), 'cut.mitm');
    writeFileSync(path, bytes.subarray(0, cut + 100));
    const r = await run([path, '--fields', 'id']);
    expect(r.code).toBe(1);
    expect(r.lines.map((l) => l.id)).toEqual(exp.flows.slice(0, 3).map((f) => f.id));
    expect(r.err).toBe(
      `mitmts flows: ${path}: flow record #4 at byte ${cut} is cut short: it declares ${tnetstring.measure(bytes, cut, bytes.length)} bytes but the input ends after 100. The 3 complete flows before it were read. The file was probably still being written or was truncated; truncate it at byte ${cut} to drop the partial record.\n`,
    );
    const empty = join(mkdtempSync(join(tmpdir(), 'mitmts-flows-')), 'empty.mitm');
    writeFileSync(empty, '');
    expect(await run([empty])).toMatchObject({ code: 0, out: '' });
  });

  it('rejects usage errors with exit code 2 and a hint', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /no flow file given/],
      [[FLOWS_MITM, '~nonsense'], /Invalid filter expression/],
      [[FLOWS_MITM, '--fields', 'request.nope'], /unknown field 'request.nope'\. Fields: id, type/],
      [[FLOWS_MITM, '--limit', '-1'], /--limit needs a non-negative integer, got "-1"/],
      [[FLOWS_MITM, '--max-body'], /--max-body needs a non-negative integer, got nothing/],
      [[FLOWS_MITM, '--frobnicate'], /unknown option --frobnicate/],
      [['/no/such.mitm'], /\/no\/such\.mitm: no such file/],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.out).toBe('');
    }
  });

  it('--help and --list-fields', async () => {
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toBe(FLOWS_HELP + '\n');
    expect(h.out).toMatch(/^Usage: mitmts flows FILE\.\.\. \[FILTER\]/);
    const f = await run(['--list-fields']);
    expect(f.out.split('\n')).toContain('response.status_code');
  });

  it('tells files from the filter argument', () => {
    expect(parseFlowsArgs([FLOWS_MITM, '~q'])).toMatchObject({ files: [FLOWS_MITM], filter: '~q' });
    expect(parseFlowsArgs([FLOWS_MITM, HAR])).toMatchObject({ files: [FLOWS_MITM, HAR], filter: undefined });
    expect(parseFlowsArgs([FLOWS_MITM])).toMatchObject({ files: [FLOWS_MITM], filter: undefined });
    expect(parseFlowsArgs(['--', '--odd-name', 'x'])).toMatchObject({ files: ['--odd-name'], filter: 'x' });
    // Names that look like files are files (then missing), whatever else they could be.
    for (const f of ['gone.mitm', 'gone.har', 'flows.db', './gone', '/tmp/gone', '~/gone'])
      expect(parseFlowsArgs([FLOWS_MITM, f]).files, f).toEqual([FLOWS_MITM, f]);
    expect(parseFlowsArgs([FLOWS_MITM, 'example.com/api'])).toMatchObject({
      files: [FLOWS_MITM],
      filter: 'example.com/api',
    });
  });
});
