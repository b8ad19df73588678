import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, OptionsError, HTTPResponse, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { startOrigin, terr, tflow, treq, withAddon, type Origin, type TestContext } from '@mitmts/sdk/testing';
import { MapRemote } from '../src/index.js';

const run = promisify(execFile);

function flowTo(scheme: string, host: string, port: number, path: string, withHost = true): HTTPFlow {
  const hp = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443) ? host : `${host}:${port}`;
  return tflow({ req: treq({ scheme, host, port, path, headers: new HTTPHeaders(withHost ? [['Host', hp]] : []) }) });
}

async function mapped(tctx: TestContext, f: HTTPFlow): Promise<HTTPFlow> {
  await tctx.trigger('request', f);
  return f;
}

describe('map_remote (unit)', () => {
  it('rewrites the host and keeps the Host header in step', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|example.com|mitmproxy.org'] });
    const f = await mapped(tctx, flowTo('https', 'example.com', 443, '/a?b=c'));
    expect(f.request.url).toBe('https://mitmproxy.org/a?b=c');
    expect(f.request.headers.get('host')).toBe('mitmproxy.org');
  });

  it('moves scheme, host and port together and writes host:port into Host', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|^https://example\\.com/api/|http://localhost:8000/v2/'] });
    const f = await mapped(tctx, flowTo('https', 'example.com', 443, '/api/users?id=1'));
    expect([f.request.scheme, f.request.host, f.request.port, f.request.path]).toEqual([
      'http',
      'localhost',
      8000,
      '/v2/users?id=1',
    ]);
    expect(f.request.headers.getAll('host')).toEqual(['localhost:8000']);
  });

  it('does not add a Host header the request did not have', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|example.com|example.org'] });
    const f = await mapped(tctx, flowTo('http', 'example.com', 80, '/', false));
    expect(f.request.url).toBe('http://example.org/');
    expect(f.request.headers.has('host')).toBe(false);
  });

  it('expands Python replacement templates', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|example.com/(\\w+)/(?P<id>\\d+)|example.com/\\g<id>/\\1'] });
    const f = await mapped(tctx, flowTo('http', 'example.com', 80, '/user/42'));
    expect(f.request.path).toBe('/42/user');
  });

  it('replaces every occurrence and applies matching rules in order', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|x|y', '|ony\\.test|two.test', '|~m POST|.*|http://never/'] });
    const f = await mapped(tctx, flowTo('http', 'onx.test', 80, '/x/x'));
    expect(f.request.url).toBe('http://two.test/y/y');
  });

  it('matches against the pretty URL (Host header) and honours the filter', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|~m GET|//shown.example/|//target.example/'] });
    const f = tflow({
      req: treq({ host: '10.0.0.1', port: 80, path: '/x', headers: new HTTPHeaders([['Host', 'shown.example']]) }),
    });
    await tctx.trigger('request', f);
    expect([f.request.host, f.request.headers.get('host')]).toEqual(['target.example', 'target.example']);
    const post = flowTo('http', 'shown.example', 80, '/x');
    post.request.method = 'POST';
    await tctx.trigger('request', post);
    expect(post.request.host).toBe('shown.example');
  });

  it('leaves the request alone when the result is not a URL, with a warning', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|^http://example.com|http://exa mple.com'] });
    const f = await mapped(tctx, flowTo('http', 'example.com', 80, '/'));
    expect(f.request.url).toBe('http://example.com/');
    expect(f.request.headers.get('host')).toBe('example.com');
    expect(
      tctx.hasLog(
        /^map_remote: rule .* turned http:\/\/example\.com\/ into http:\/\/exa mple\.com\/, which is not a valid URL/,
        'warn',
      ),
    ).toBe(true);
  });

  it('does nothing without rules, and skips answered, failed and dead flows', async () => {
    const tctx = await withAddon(MapRemote);
    expect((await mapped(tctx, flowTo('http', 'example.com', 80, '/'))).request.host).toBe('example.com');
    tctx.configure({ map_remote: ['|example.com|example.org'] });
    const answered = flowTo('http', 'example.com', 80, '/');
    answered.response = HTTPResponse.make(200);
    const failed = flowTo('http', 'example.com', 80, '/');
    failed.error = terr();
    const dead = flowTo('http', 'example.com', 80, '/');
    dead.live = false;
    for (const f of [answered, failed, dead]) expect((await mapped(tctx, f)).request.host).toBe('example.com');
  });

  it('rejects bad specs naming the option and spec, keeping the previous rules', async () => {
    const tctx = await withAddon(MapRemote);
    tctx.configure({ map_remote: ['|example.com|example.org'] });
    const bad: Array<[string, string]> = [
      [
        '|exa(mple|x',
        "Invalid map_remote spec '|exa(mple|x': invalid regular expression 'exa(mple' (missing ), unterminated subpattern at position 3).",
      ],
      [
        '|example|\\1',
        "Invalid map_remote spec '|example|\\1': invalid replacement '\\1' (invalid group reference 1 at position 1).",
      ],
      [
        '|(x)|\\g<nope>',
        "Invalid map_remote spec '|(x)|\\g<nope>': invalid replacement '\\g<nope>' (unknown group name 'nope' at position 3).",
      ],
      ['|~h|a|b', "Invalid map_remote spec '|~h|a|b': invalid flow filter '~h': "],
      ['|onlyone', "Invalid map_remote spec '|onlyone': expected 2 or 3 parts separated by '|'"],
    ];
    for (const [spec, message] of bad) {
      let err: unknown;
      try {
        tctx.configure({ map_remote: ['|a|b', spec] });
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(OptionsError);
      expect((err as Error).message.startsWith(message), (err as Error).message).toBe(true);
    }
    expect(tctx.kernel.options.get('map_remote')).toEqual(['|example.com|example.org']);
    expect((await mapped(tctx, flowTo('http', 'example.com', 80, '/'))).request.host).toBe('example.org');
    expect((await mapped(tctx, flowTo('http', 'a.example', 80, '/'))).request.host).toBe('a.example');
  });
});

describe('map_remote (end to end)', () => {
  let origin: Origin;
  let port: number;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    origin = await startOrigin((req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`upstream saw ${req.headers.host} ${req.url}`),
    );
    port = origin.port;
    // The mapped-from host does not exist: only the rewrite gets the request anywhere.
    proxy = await createProxy({
      addons: [MapRemote],
      options: {
        map_remote: [`|^https?://remote\\.test/old/|http://127.0.0.1:${port}/new/`],
        connection_strategy: 'lazy',
      },
    });
  });

  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('sends an HTTP request to the mapped server with a matching Host header', async () => {
    const { stdout } = await run('curl', ['-s', '-x', proxy.url, 'http://remote.test/old/page?q=1']);
    expect(stdout).toBe(`upstream saw 127.0.0.1:${port} /new/page?q=1`);
    expect(origin.requests.at(-1)!.headers.host).toBe(`127.0.0.1:${port}`);
  });

  it('maps an intercepted HTTPS request to a plain HTTP server', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '--cacert',
      proxy.caCertPath,
      '-x',
      proxy.url,
      'https://remote.test/old/secure',
    ]);
    expect(stdout).toBe(`upstream saw 127.0.0.1:${port} /new/secure`);
    const flow = proxy.flows.all().at(-1) as HTTPFlow;
    expect(flow.request.url).toBe(`http://127.0.0.1:${port}/new/secure`);
  });
});
