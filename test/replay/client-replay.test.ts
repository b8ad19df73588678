// The done-when scenario of client replay, with the real command line: record a site on loopback
// (HTTP and HTTPS) through `mitmts -w`, then `mitmts -n -C` replays the recording against the
// running site, which sees the same requests (method, target, headers in order, body bytes, and
// for HTTPS the same SNI). Also: the site down (flows get the error, exit status 0 as mitmproxy),
// a replay killed by a script, and client_replay_concurrency above 1 (requests overlap).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowReader, FlowWriter, HTTPRequest, type HTTPFlow } from '@mitmts/sdk';
import { tflow } from '@mitmts/sdk/testing';
import { confdirWithCa, runMitmts, startMitmts } from '../helpers/cli.js';
import { curl, httpServer, httpsServer, type TestCa, type Upstream } from '../helpers/servers.js';

/** One request as the site saw it. */
interface Seen {
  readonly scheme: 'http' | 'https';
  readonly sni: string | null;
  readonly method: string;
  readonly target: string;
  readonly headers: readonly string[];
  readonly body: Buffer;
}

const dir = mkdtempSync(join(tmpdir(), 'mitmts-client-replay-'));
const confdir = confdirWithCa();
const proxyCa = join(confdir, 'mitmproxy-ca-cert.pem');
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** A handler that records what it was sent, then answers with the target. */
function recording(seen: Seen[], scheme: 'http' | 'https') {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const sni = scheme === 'https' ? (req.socket as tls.TLSSocket).servername || null : null;
      seen.push({
        scheme,
        sni,
        method: req.method!,
        target: req.url!,
        headers: req.rawHeaders,
        body: Buffer.concat(chunks),
      });
      res.end(`answer to ${req.method} ${req.url}`);
    });
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** A flow file of GET requests to these URLs (as if recorded). */
function flowFile(name: string, urls: readonly string[]): string {
  const path = join(dir, name);
  const w = new FlowWriter(path);
  for (const u of urls) {
    const f = tflow({ req: HTTPRequest.make('GET', u) });
    f.live = false;
    w.add(f);
  }
  w.close();
  return path;
}

const exec = promisify(execFile);
const readFlows = (path: string): HTTPFlow[] => [...new FlowReader(path)] as HTTPFlow[];

describe('mitmts -w through a site, then mitmts -n -C against it', () => {
  const seen: Seen[] = [];
  let site: Upstream;
  let secure: Upstream & { ca: TestCa };
  let recorded: Seen[];
  const rec = join(dir, 'rec.mitm');
  let trustSite: string[];

  beforeAll(async () => {
    site = await httpServer(recording(seen, 'http'));
    secure = await httpsServer(recording(seen, 'https'));
    trustSite = ['--set', `ssl_verify_upstream_trusted_ca=${secure.ca.caCertPath}`];
    const upload = join(dir, 'upload.bin');
    writeFileSync(upload, BINARY);
    const recorder = await startMitmts(['--flow-detail', '0', '-w', rec, ...trustSite], confdir);
    for (const args of [
      ['-H', 'X-Trace: abc', '-H', 'Accept: text/html', `${site.url}/page?x=1&y=two`],
      ['-d', 'a=1&b=2', `${site.url}/form`],
      [
        '--cacert',
        proxyCa,
        '-X',
        'PUT',
        '-H',
        'Content-Type: application/octet-stream',
        '--data-binary',
        `@${upload}`,
        `${secure.url}/api/upload`,
      ],
      ['--cacert', proxyCa, '-H', 'Authorization: Bearer t0ken', `${secure.url}/secure?q=%20`],
    ]) {
      const r = await curl(['-x', recorder.url, ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await recorder.stop()).toBe(0);
    recorded = seen.splice(0);
  }, 120_000);

  afterAll(async () => {
    await site?.close();
    await secure?.close();
  });

  it('recorded four requests, HTTPS ones with SNI', () => {
    expect(recorded.map((s) => `${s.scheme} ${s.method} ${s.target}`)).toEqual([
      'http GET /page?x=1&y=two',
      'http POST /form',
      'https PUT /api/upload',
      'https GET /secure?q=%20',
    ]);
    expect(recorded[2]!.sni).toBe('localhost');
    expect(recorded[2]!.body).toEqual(BINARY);
    expect(readFlows(rec).map((f) => f.request.method)).toEqual(['GET', 'POST', 'PUT', 'GET']);
  });

  it('replays them: the site sees the same requests (headers in order, body bytes, SNI); -w saves the replays; exit status 0', async () => {
    const out = join(dir, 'replayed.mitm');
    const run = await runMitmts(['-n', '-C', rec, '-w', out, ...trustSite], confdir);
    expect(run.code, run.output).toBe(0);
    const replayed = seen.splice(0);
    expect(replayed).toEqual(recorded);
    const flows = readFlows(out);
    expect(flows.map((f) => [f.isReplay, f.response?.statusCode, f.response?.text])).toEqual(
      recorded.map((s) => ['request', 200, `answer to ${s.method} ${s.target}`]),
    );
    expect(flows[2]!.serverConn.sni).toBe('localhost');
    expect(run.output).toMatch(/\[replay\]: PUT https:\/\/localhost:\d+\/api\/upload/);
  });

  it('the store records the replays (mitmts flows DB ~replayq lists them with their new responses)', async () => {
    const db = join(dir, 'replayed.db');
    const run = await runMitmts(['-n', '-C', rec, '--set', `store=${db}`, ...trustSite], confdir);
    expect(run.code, run.output).toBe(0);
    expect(seen.splice(0)).toHaveLength(4);
    const list = await exec(process.execPath, [
      join(import.meta.dirname, '../../bin/mitmts.js'),
      'flows',
      db,
      '~replayq',
      '--fields',
      'request.method,request.path,response.status_code,is_replay',
    ]);
    const rows = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r['request.method'], r['request.path'], r['response.status_code'], r.is_replay])).toEqual(
      recorded.map((s) => [s.method, s.target, 200, 'request']),
    );
  });

  it('replays from a store database (-C flows.db, read asynchronously): the site sees the same requests', async () => {
    const db = join(dir, 'replayed.db');
    const run = await runMitmts(['-n', '-C', db, ...trustSite], confdir);
    expect(run.code, run.output).toBe(0);
    expect(seen.splice(0).map((s) => [s.scheme, s.method, s.target, s.body])).toEqual(
      recorded.map((s) => [s.scheme, s.method, s.target, s.body]),
    );
  });

  it('a damaged store file given to -C stops the start with an error naming it', async () => {
    const bad = join(dir, 'damaged.db');
    writeFileSync(bad, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4000, 0x5a)]));
    const run = await runMitmts(['-n', '-C', bad], confdir);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/client_replay: cannot read flows from .*damaged\.db/);
    expect(seen).toHaveLength(0);
  });

  it('a replay killed by a script (-s) never reaches the site; the others go on', async () => {
    const script = join(dir, 'kill-form.ts');
    writeFileSync(
      script,
      "import type { HTTPFlow } from '@mitmts/sdk';\n" +
        "export function request(flow: HTTPFlow): void {\n  if (flow.request.path === '/form') flow.kill();\n}\n" +
        'export function error(flow: HTTPFlow): void {\n  console.log(`error hook: ${flow.request.path}: ${flow.error?.msg}`);\n}\n',
    );
    const out = join(dir, 'killed.mitm');
    const run = await runMitmts(['-n', '-C', rec, '-w', out, '-s', script, ...trustSite], confdir);
    expect(run.code, run.output).toBe(0);
    expect(seen.splice(0).map((s) => s.target)).toEqual(['/page?x=1&y=two', '/api/upload', '/secure?q=%20']);
    expect(run.output).toContain('error hook: /form: Connection killed.');
    const form = readFlows(out).find((f) => f.request.path === '/form')!;
    expect([form.isReplay, form.response, form.error?.msg]).toEqual(['request', null, 'Connection killed.']);
  });
});

describe('mitmts -n -C, other cases', () => {
  it('against a site that is down: each flow gets the connection error, mitmts exits with status 0 (as mitmproxy)', async () => {
    const port = await closedPort();
    const file = flowFile('down.mitm', [`http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
    const out = join(dir, 'down-out.mitm');
    const run = await runMitmts(['-n', '-C', file, '-w', out], confdir);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`<< Failed to connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`);
    expect(readFlows(out).map((f) => [f.request.path, f.response, f.error?.msg])).toEqual([
      ['/a', null, `Failed to connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`],
      ['/b', null, `Failed to connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`],
    ]);
  });

  it('a file that cannot be read: a message naming it, exit status 1', async () => {
    const missing = join(dir, 'missing.mitm');
    const run = await runMitmts(['-n', '-C', missing], confdir);
    expect(run.code).toBe(1);
    expect(run.output).toContain(`client_replay: cannot read flows from ${missing}`);
  });

  /**
   * A site that holds each request until `gate` requests are waiting (or every expected one has
   * come), then answers them all: it sees requests overlap only if they are sent at once.
   */
  async function gated(gate: number, total: number): Promise<Upstream & { maxAtOnce: () => number }> {
    let waiting: Array<() => void> = [];
    let inFlight = 0;
    let max = 0;
    let arrived = 0;
    const up = await httpServer((req, res) => {
      inFlight++;
      arrived++;
      max = Math.max(max, inFlight);
      waiting.push(() => {
        inFlight--;
        res.end(`done ${req.url}`);
      });
      if (waiting.length >= gate || arrived === total) {
        const release = waiting;
        waiting = [];
        for (const r of release) r();
      }
    });
    return Object.assign(up, { maxAtOnce: () => max });
  }

  it.each([
    ['-1', 3, 3],
    ['2', 4, 2],
  ] as const)(
    'client_replay_concurrency=%s: the site sees requests overlap (at most as many as allowed)',
    async (setting, total, atOnce) => {
      const up = await gated(atOnce, total);
      try {
        const file = flowFile(
          `gate${setting}.mitm`,
          Array.from({ length: total }, (_, i) => `${up.url}/c/${i}`),
        );
        const run = await runMitmts(['-n', '-C', file, '--set', `client_replay_concurrency=${setting}`], confdir);
        expect(run.code, run.output).toBe(0);
        expect(up.maxAtOnce()).toBe(atOnce);
        expect(run.output.match(/<< 200 OK/g)).toHaveLength(total);
      } finally {
        await up.close();
      }
    },
  );
});
