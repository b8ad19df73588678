// Embedding for tests, as mockttp users expect it, with real clients: curl, Python requests and a
// Node child process (fetch through undici's EnvHttpProxyAgent) configured only by proxy.env,
// HTTPS included; waitForFlow; stub rules (JSON reply, pass-through transform, close, delay,
// once); an addon's exception failing the test; typed options checked against the registry.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyServer } from '@mitmts/core';
import { AddonError, createProxy, Kernel, type EmbeddedProxy, type HTTPFlow, type ProxyOptions } from '@mitmts/sdk';
import { httpServer, httpsServer, type TestCa, type Upstream } from '../helpers/servers.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program with extra environment variables; never throws (the test asserts on `code`). */
function runWith(env: Readonly<Record<string, string>>, file: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const seen: string[] = [];
const echo =
  (scheme: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    seen.push(`${scheme} ${req.method} ${req.url} ${req.headers['x-added'] ?? ''}`);
    res.setHeader('content-type', 'text/plain');
    res.end(`${scheme} says hi to ${req.url}`);
  };

let site: Upstream;
let secure: Upstream & { ca: TestCa };
let proxy: EmbeddedProxy;

beforeAll(async () => {
  site = await httpServer(echo('http'));
  secure = await httpsServer(echo('https'));
  proxy = await createProxy({ options: { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath } });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await site?.close();
  await secure?.close();
});

describe('proxy.env: a child process goes through the proxy and trusts its CA, with nothing else set', () => {
  it('names the proxy and the CA for every common stack', () => {
    expect(proxy.env).toMatchObject({
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      NODE_EXTRA_CA_CERTS: proxy.caCertPath,
      SSL_CERT_FILE: proxy.caCertPath,
      REQUESTS_CA_BUNDLE: proxy.caCertPath,
    });
    expect(readFileSync(proxy.env.SSL_CERT_FILE, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('curl (HTTP and HTTPS)', async () => {
    for (const url of [`${site.url}/curl`, `${secure.url}/curl`]) {
      const r = await runWith(proxy.env, 'curl', ['-sS', url]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/says hi to \/curl$/);
    }
    const flow = await proxy.waitForFlow('~u /curl & ~u ^https');
    expect([flow.request.scheme, flow.response?.statusCode]).toEqual(['https', 200]);
  });

  it('Python requests (HTTPS)', async () => {
    const script = 'import requests, sys\nr = requests.get(sys.argv[1])\nprint(r.status_code, r.text)';
    const r = await runWith(proxy.env, '/usr/bin/python3', ['-c', script, `${secure.url}/python`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('200 https says hi to /python');
    const flow = await proxy.waitForFlow('~u /python');
    expect(flow.request.headers.get('user-agent')).toMatch(/^python-requests/);
  });

  it("a Node child process: fetch through undici's EnvHttpProxyAgent, HTTPS trusted by NODE_EXTRA_CA_CERTS", async () => {
    const script =
      "const { EnvHttpProxyAgent, fetch } = require('undici');\n" +
      'fetch(process.argv[1], { dispatcher: new EnvHttpProxyAgent() }).then(async (r) => console.log(r.status, await r.text()), (e) => { console.error(e.cause ?? e); process.exit(1); });';
    const r = await runWith(proxy.env, process.execPath, ['-e', script, `${secure.url}/node`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('200 https says hi to /node');
    const flow = await proxy.waitForFlow((f) => f.request.path === '/node');
    expect(flow.serverConn.sni).toBe('localhost');
  });
});

describe('waitForFlow and httpFlows', () => {
  it('resolves with a flow seen later, typed, and lists what it saw when it times out', async () => {
    const waiting = proxy.waitForFlow('~u /later & ~c 200');
    const r = await runWith(proxy.env, 'curl', ['-sS', `${site.url}/later`]);
    expect(r.code, r.stderr).toBe(0);
    const flow: HTTPFlow = await waiting;
    expect(flow.response!.text).toBe('http says hi to /later');
    expect(proxy.httpFlows('~u /later')).toEqual([flow]);
    await expect(proxy.waitForFlow('~u /never', { timeout: 50 })).rejects.toThrow(
      /^No HTTP flow matching "~u \/never" within 50 ms; \d+ seen, last: .*GET http:\/\/127\.0\.0\.1:\d+\/later 200\.$/,
    );
  });

  it("rejects a filter that does not parse, with the filter language's message", () => {
    expect(() => proxy.waitForFlow('~c abc')).toThrow(
      'Invalid filter expression at position 3: expected an integer argument after ~c',
    );
  });
});

describe('rules', () => {
  it('replyJson answers without the server; once() leaves the next request to the server', async () => {
    const rule = proxy.rule('~u /api/user & ~m GET').once().replyJson({ name: 'Ada' }, { status: 201 });
    const stubbed = await runWith(proxy.env, 'curl', ['-sS', '-i', `${site.url}/api/user`]);
    expect(stubbed.stdout).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(stubbed.stdout).toMatch(/content-type: application\/json\r\n/i);
    expect(stubbed.stdout.endsWith('\r\n\r\n{"name":"Ada"}')).toBe(true);
    expect(seen.filter((s) => s.includes('/api/user'))).toEqual([]);
    expect([rule.handled, proxy.rules.all.includes(rule)]).toEqual([1, false]);
    const real = await runWith(proxy.env, 'curl', ['-sS', `${site.url}/api/user`]);
    expect(real.stdout).toBe('http says hi to /api/user');
  });

  it('passThrough changes the request the server sees and the response the client gets', async () => {
    const rule = proxy.rule('~u /through').passThrough({
      request: (req) => req.headers.set('x-added', 'by-rule'),
      response: (resp) => {
        resp.text = resp.text!.toUpperCase();
      },
    });
    try {
      const r = await runWith(proxy.env, 'curl', ['-sS', `${secure.url}/through`]);
      expect(r.stdout).toBe('HTTPS SAYS HI TO /THROUGH');
      expect(seen).toContain('https GET /through by-rule');
      expect(rule.flows.map((f) => f.request.path)).toEqual(['/through']);
    } finally {
      rule.remove();
    }
  });

  it('close() drops the connection without a response (curl: empty reply); the flow is killed', async () => {
    const rule = proxy.rule('~u /drop').close();
    const r = await runWith(proxy.env, 'curl', ['-sS', `${site.url}/drop`]);
    expect(r.code).toBe(52);
    const flow = await proxy.waitForFlow('~u /drop');
    expect([flow.response, flow.error?.msg]).toEqual([null, 'Connection killed.']);
    expect(seen.some((s) => s.includes('/drop'))).toBe(false);
    rule.remove();
  });

  it('delay() holds the request that long before the action, while other requests go on', async () => {
    const rule = proxy.rule('~u /slow').delay(300).reply(200, 'late');
    const slow = runWith(proxy.env, 'curl', ['-sS', `${site.url}/slow`]);
    await proxy.waitForFlow('~u /slow', { when: 'request' });
    const fast = await runWith(proxy.env, 'curl', ['-sS', `${site.url}/fast`]);
    expect(fast.stdout).toBe('http says hi to /fast');
    expect((await slow).stdout).toBe('late');
    const flow = rule.flows[0]!;
    expect(flow.response!.timestampStart! - flow.request.timestampStart).toBeGreaterThanOrEqual(0.3);
    rule.remove();
  });

  it('refuses a filter that does not parse at once', () => {
    expect(() => proxy.rule('~q ~bogus')).toThrow(/bogus/);
  });
});

describe('addon exceptions', () => {
  const thrower = {
    name: 'thrower',
    response: (f: HTTPFlow) =>
      void (
        f.request.path === '/boom' &&
        (() => {
          throw new Error('kaboom');
        })()
      ),
  };

  it('fail the test by default: a pending waitForFlow rejects with it and close() rejects after closing', async () => {
    const p = await createProxy({ addons: [thrower] });
    const failed = expect(p.waitForFlow('~u /never-comes')).rejects.toThrow('addon thrower: response failed: kaboom');
    const r = await runWith(p.env, 'curl', ['-sS', `${site.url}/boom`]);
    expect(r.stdout).toBe('http says hi to /boom');
    await failed;
    expect(p.addonErrors).toHaveLength(1);
    expect(p.addonErrors[0]).toBeInstanceOf(AddonError);
    await expect(p.close()).rejects.toThrow('addon thrower: response failed: kaboom');
  });

  it("addonErrors: 'log' only logs them", async () => {
    const p = await createProxy({ addons: [thrower], addonErrors: 'log' });
    await runWith(p.env, 'curl', ['-sS', `${site.url}/boom`]);
    await p.waitForFlow('~u /boom');
    expect(
      p.logs.some((e) => e.level === 'error' && e.message.startsWith('addon thrower: response failed: kaboom')),
    ).toBe(true);
    expect(p.addonErrors).toEqual([]);
    await p.close();
  });
});

describe('typed options', () => {
  it('CoreOptionValues lists every option of the kernel and the proxy runtime with its type', async () => {
    const k = new Kernel({ termlog: false });
    await k.add(ProxyServer);
    const text = readFileSync(join(import.meta.dirname, '../../sdk/src/options.ts'), 'utf8');
    const TS: Record<string, string> = {
      bool: 'boolean',
      str: 'string',
      int: 'number',
      'str?': 'string | null',
      'int?': 'number | null',
      'str[]': 'readonly string[]',
    };
    for (const name of k.options.names()) {
      const info = k.options.info(name);
      const type = info.choices
        ? // as Prettier writes string literals (single quotes)
          [...info.choices.map((c) => `'${c}'`), ...(info.type.endsWith('?') ? ['null'] : [])].join(' | ')
        : TS[info.type];
      expect(text, `${name} (regenerate: npm run build && node scripts/option-types.mjs)`).toContain(
        `  readonly ${name}?: ${type};\n`,
      );
    }
    await k.shutdown();
  });

  it('a wrong type is a compile error (tsc checks this file), and a wrong value is refused at start', async () => {
    // @ts-expect-error ssl_insecure is a boolean
    const bad: ProxyOptions = { ssl_insecure: 'yes' };
    await expect(createProxy({ options: bad })).rejects.toThrow(/ssl_insecure/);
  });
});
