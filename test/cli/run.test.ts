// `mitmts run -- COMMAND` through the real command line: real programs that know nothing of
// proxies (Node's global fetch, node:https and node:http; Python requests and urllib; curl),
// their flows saved with -w and tagged with their command line; exit codes, signals, stdin.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, FlowReader, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { RunTagger } from '@mitmts/addon-runtag';
import { httpServer, httpsServer, type Upstream } from '../helpers/servers.js';
import { CURL, ensureTools, PYTHON_REQUESTS } from '../helpers/tools.js';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');
const FIXTURES = join(import.meta.dirname, '../fixtures/run');
const missingPython = ensureTools(PYTHON_REQUESTS);
const missingCurl = ensureTools(CURL);
for (const m of [missingPython, missingCurl]) if (m) console.warn(`mitmts run test skipped: ${m}`);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the mitmts binary; `onStart` gets the process (to signal it), `input` goes to its stdin. */
function mitmts(
  args: string[],
  opts: { input?: string; onStdout?: (text: string, p: ReturnType<typeof spawn>) => void } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d;
      opts.onStdout?.(stdout, p);
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}

let secure: Awaited<ReturnType<typeof httpsServer>>;
let plain: Upstream;
const dir = mkdtempSync(join(tmpdir(), 'mitmts-run-'));
/** The options every run gets: a private confdir, the test servers' CA trusted upstream. */
const base = (): string[] => [
  '--set',
  `confdir=${join(dir, 'conf')}`,
  '--set',
  `ssl_verify_upstream_trusted_ca=${secure.ca.caCertPath}`,
];
const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c));
  req.on('end', () => res.end(`origin saw ${req.method} ${req.url}${body ? ` ${body}` : ''}`));
};

beforeAll(async () => {
  secure = await httpsServer(handler);
  plain = await httpServer(handler);
});
afterAll(async () => {
  await secure?.close();
  await plain?.close();
});

const flowsIn = (file: string): HTTPFlow[] =>
  [...new FlowReader(file)].filter((f): f is HTTPFlow => f.type === 'http' && f.request.method !== 'CONNECT');

describe('mitmts run', () => {
  it(
    'captures a Node.js program that knows nothing of proxies (fetch, node:https, node:http), tagged, with its exit code',
    { timeout: 60_000 },
    async () => {
      const file = join(dir, 'node.mitm');
      // -s and -w work as with mitmts itself: the script's header is in the saved flows.
      const script = join(import.meta.dirname, '../../examples/http-add-header.ts');
      const r = await mitmts([
        'run',
        ...base(),
        '-q',
        '-s',
        script,
        '-w',
        file,
        '--',
        process.execPath,
        join(FIXTURES, 'client.mjs'),
        secure.url,
        plain.url,
        '3',
      ]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(
        'fetch 200 origin saw POST /fetch {"via":"fetch"}\nhttps 200 origin saw GET /https\nhttp 200 origin saw GET /http\n',
      );
      expect(r.code).toBe(3);
      const flows = flowsIn(file);
      expect(flows.map((f) => f.request.url)).toEqual([
        `${secure.url}/fetch`,
        `${secure.url}/https`,
        `${plain.url}/http`,
      ]);
      expect(flows.map((f) => f.response?.headers.get('count'))).toEqual(['1', '2', '3']);
      const cmd = `${process.execPath} ${join(FIXTURES, 'client.mjs')} ${secure.url} ${plain.url} 3`;
      for (const f of flows) {
        expect(f.metadata['mitmts.run']).toBe(cmd);
        expect(f.metadata['mitmts.run_id']).toMatch(/^[0-9a-f]{12}$/);
        expect(f.request.headers.has('proxy-authorization')).toBe(false);
      }
      expect(new Set(flows.map((f) => f.metadata['mitmts.run_id'])).size).toBe(1);
    },
  );

  it(
    'lets --bypass hosts go direct (the Node preload honours NO_PROXY as the other clients do)',
    { timeout: 60_000 },
    async () => {
      const file = join(dir, 'bypass.mitm');
      const r = await mitmts([
        'run',
        ...base(),
        '-q',
        '-w',
        file,
        '--bypass',
        '127.0.0.1',
        '--',
        process.execPath,
        join(FIXTURES, 'client.mjs'),
        secure.url,
        plain.url,
      ]);
      expect(r.code).toBe(0);
      // localhost goes through the proxy, 127.0.0.1 does not.
      expect(flowsIn(file).map((f) => f.request.path)).toEqual(['/fetch', '/https']);
    },
  );

  it.skipIf(missingPython !== null)('captures Python requests and urllib', { timeout: 60_000 }, async () => {
    const file = join(dir, 'python.mitm');
    const r = await mitmts([
      'run',
      ...base(),
      '-q',
      '-w',
      file,
      '--',
      '/usr/bin/python3',
      join(FIXTURES, 'client.py'),
      secure.url,
      plain.url,
    ]);
    expect(r.stdout).toBe(
      'requests 200 origin saw POST /requests {"via": "requests"}\nurllib origin saw GET /urllib\n',
    );
    expect(r.code).toBe(0);
    expect(
      flowsIn(file).map((f) => [
        f.request.url,
        f.request.headers.get('user-agent')?.split('/')[0],
        f.metadata['mitmts.run'],
      ]),
    ).toEqual([
      [
        `${secure.url}/requests`,
        'python-requests',
        `/usr/bin/python3 ${join(FIXTURES, 'client.py')} ${secure.url} ${plain.url}`,
      ],
      [
        `${plain.url}/urllib`,
        'Python-urllib',
        `/usr/bin/python3 ${join(FIXTURES, 'client.py')} ${secure.url} ${plain.url}`,
      ],
    ]);
  });

  it.skipIf(missingCurl !== null)(
    'captures curl, flags before the command without --',
    { timeout: 60_000 },
    async () => {
      const file = join(dir, 'curl.mitm');
      // Without -q: the proxy's flow lines go to standard error, standard output is curl's alone.
      const r = await mitmts(['run', ...base(), '-w', file, 'curl', '-sS', '-d', 'x=1', `${secure.url}/curl`]);
      expect(r).toMatchObject({ code: 0, stdout: 'origin saw POST /curl x=1' });
      expect(r.stderr).toContain(`POST ${secure.url}/curl`);
      const [f] = flowsIn(file);
      expect(f!.metadata['mitmts.run']).toBe(`curl -sS -d x=1 ${secure.url}/curl`);
    },
  );

  it('uses a running proxy with --proxy, tagging through its runtag addon', { timeout: 60_000 }, async () => {
    const proxy: EmbeddedProxy = await createProxy({
      addons: [RunTagger],
      confdir: join(dir, 'running'),
      options: { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath },
    });
    try {
      const r = await mitmts([
        'run',
        '--proxy',
        proxy.url,
        '--confdir',
        proxy.confdir,
        '--',
        process.execPath,
        join(FIXTURES, 'client.mjs'),
        secure.url,
        plain.url,
      ]);
      expect(r.code).toBe(0);
      const flows = proxy.flows
        .all()
        .filter((f): f is HTTPFlow => f.type === 'http' && (f as HTTPFlow).request.method !== 'CONNECT');
      expect(flows.map((f) => f.request.path)).toEqual(['/fetch', '/https', '/http']);
      for (const f of flows) expect(f.metadata['mitmts.run']).toMatch(/client\.mjs/);
    } finally {
      await proxy.close();
    }
  });

  it(
    'uses a running proxy over TLS with --proxy https://: Node (fetch, node:https, node:http), curl and Python requests trust it',
    { timeout: 90_000 },
    async () => {
      const proxy: EmbeddedProxy = await createProxy({
        addons: [RunTagger],
        confdir: join(dir, 'running-tls'),
        options: { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath },
      });
      const url = proxy.url.replace(/^http:/, 'https:');
      const run = (...cmd: string[]): Promise<Result> =>
        mitmts(['run', '--proxy', url, '--confdir', proxy.confdir, '--', ...cmd]);
      try {
        const node = await run(process.execPath, join(FIXTURES, 'client.mjs'), secure.url, plain.url);
        expect(node).toMatchObject({
          code: 0,
          stdout:
            'fetch 200 origin saw POST /fetch {"via":"fetch"}\nhttps 200 origin saw GET /https\nhttp 200 origin saw GET /http\n',
        });
        const paths = ['/fetch', '/https', '/http'];
        if (missingCurl === null) {
          expect(await run('curl', '-sS', `${secure.url}/curl-https`)).toMatchObject({
            code: 0,
            stdout: 'origin saw GET /curl-https',
          });
          expect(await run('curl', '-sS', `${plain.url}/curl-http`)).toMatchObject({
            code: 0,
            stdout: 'origin saw GET /curl-http',
          });
          paths.push('/curl-https', '/curl-http');
        }
        if (missingPython === null) {
          // requests (urllib3) speaks TLS to the proxy; Python's urllib does not (docs/capture.md).
          const py = 'import sys, requests\nfor u in sys.argv[1:]: print(requests.get(u).text)';
          const r = await run(
            '/usr/bin/python3',
            '-c',
            py,
            `${secure.url}/requests-https`,
            `${plain.url}/requests-http`,
          );
          expect(r).toMatchObject({
            code: 0,
            stdout: 'origin saw GET /requests-https\norigin saw GET /requests-http\n',
          });
          paths.push('/requests-https', '/requests-http');
        }
        const flows = proxy.flows
          .all()
          .filter((f): f is HTTPFlow => f.type === 'http' && (f as HTTPFlow).request.method !== 'CONNECT');
        expect(flows.map((f) => f.request.path)).toEqual(paths);
        for (const f of flows) expect(f.metadata['mitmts.run']).toBeTypeOf('string');
        // Every client spoke TLS to the proxy itself (plain http:// requests too).
        expect(proxy.kernel.flows.all().every((f) => f.clientConn.tlsEstablished)).toBe(true);
      } finally {
        await proxy.close();
      }
    },
  );

  it(
    'forwards signals, returns 128+N when a signal ends the command, inherits stdin',
    { timeout: 60_000 },
    async () => {
      const trap =
        "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 1000);";
      const term = await mitmts(['run', ...base(), '-q', '--', process.execPath, '-e', trap], {
        onStdout: (text, p) => {
          if (text === 'ready\n') p.kill('SIGTERM');
        },
      });
      expect(term).toMatchObject({ code: 7, stdout: 'ready\nchild got SIGTERM\n' });
      // Standard input is not a terminal here: SIGINT is forwarded too, and kills the child.
      const int = await mitmts(
        ['run', ...base(), '-q', '--', process.execPath, '-e', "console.log('ready'); setInterval(() => {}, 1000);"],
        {
          onStdout: (text, p) => {
            if (text === 'ready\n') p.kill('SIGINT');
          },
        },
      );
      expect(int.code).toBe(130);
      const echo = await mitmts(
        ['run', ...base(), '-q', '--', process.execPath, '-e', 'process.stdin.pipe(process.stdout)'],
        { input: 'from stdin\n' },
      );
      expect(echo).toMatchObject({ code: 0, stdout: 'from stdin\n' });
    },
  );

  it('says what is wrong: no command, a missing command, options that do not apply', { timeout: 60_000 }, async () => {
    expect(await mitmts(['run', ...base()])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('mitmts run: no command given'),
    });
    expect(await mitmts(['run', ...base(), '-q', '--', 'no-such-command-mitmts'])).toMatchObject({
      code: 127,
      stderr: 'mitmts run: cannot run no-such-command-mitmts: command not found\n',
    });
    expect((await mitmts(['run', '--proxy', 'socks5://127.0.0.1:1', '--', 'true'])).stderr).toContain(
      '--proxy must be an http:// or https:// URL, got socks5://',
    );
    expect((await mitmts(['run', '--proxy', 'http://127.0.0.1:1', '-w', 'x.mitm', '--', 'true'])).stderr).toContain(
      "with --proxy, the running proxy's own options apply",
    );
    expect(
      (await mitmts(['run', '--proxy', 'http://127.0.0.1:1', '--confdir', join(dir, 'empty'), '--', 'true'])).stderr,
    ).toContain(`no CA certificate at ${join(dir, 'empty', 'mitmproxy-ca-cert.pem')}`);
    const help = await mitmts(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: mitmts run \[options\]/);
    expect((await mitmts(['--help'])).stdout).toMatch(
      /^  run +run COMMAND with its HTTP\(S\) traffic through the proxy$/m,
    );
  });
});
