import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPResponse, type EmbeddedProxy } from '@mitmts/sdk';
import { startOrigin, tflow, withAddon, type Origin } from '@mitmts/sdk/testing';
import { rewriteAltSvc, UpdateAltSvc } from '../src/index.js';

describe('rewriteAltSvc', () => {
  it.each([
    ['h3=":443"; ma=86400, h3-29=":443"; ma=86400, h2=":443"; ma=86400', null, 'h2=":443"; ma=86400'],
    ['h3=":443"', null, null],
    ['quic=":443"; ma=2592000; v="46,43", h2="alt.example:443"', null, 'h2="alt.example:443"'],
    ['h2="alt.example:443"; ma=60, h3=":443"', 8080, 'h2=":8080"; ma=60'],
    ['clear', null, 'clear'],
    ['h2=":443"', null, 'h2=":443"'],
  ])('%s (port %s) -> %s', (value, port, out) => {
    expect(rewriteAltSvc(value, port)).toBe(out);
  });
});

describe('updatealtsvc (unit)', () => {
  const flow = (mode: string, altSvc: string): ReturnType<typeof tflow> => {
    const f = tflow({ resp: HTTPResponse.make(200, '', { 'alt-svc': altSvc }) });
    f.clientConn.proxyMode = mode;
    f.clientConn.sockname = ['127.0.0.1', 8443];
    return f;
  };

  it('strips HTTP/3 in regular mode and leaves the rest as it is', async () => {
    const tctx = await withAddon(UpdateAltSvc);
    const f = flow('regular', 'h3=":443", h2="other.example:443"');
    await tctx.trigger('responseheaders', f);
    expect(f.response!.headers.getAll('alt-svc')).toEqual(['h2="other.example:443"']);
  });

  it('points alternatives at the proxy port in reverse mode', async () => {
    const tctx = await withAddon(UpdateAltSvc);
    const f = flow('reverse:https://example.com', 'h2="example.com:443"; ma=60');
    await tctx.trigger('responseheaders', f);
    expect(f.response!.headers.get('alt-svc')).toBe('h2=":8443"; ma=60');
  });

  it('keeps the header as it is with keep_alt_svc_header', async () => {
    const tctx = await withAddon(UpdateAltSvc);
    tctx.configure({ keep_alt_svc_header: true });
    const f = flow('reverse:https://example.com', 'h3=":443"');
    await tctx.trigger('responseheaders', f);
    expect(f.response!.headers.get('alt-svc')).toBe('h3=":443"');
  });
});

describe('updatealtsvc (end to end)', () => {
  let server: Origin;
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    server = await startOrigin((req, res) => {
      res.setHeader(
        'alt-svc',
        req.url === '/only-h3' ? 'h3=":443"; ma=86400' : 'h3=":443"; ma=86400, h2=":443"; ma=86400',
      );
      res.end('ok');
    });
    proxy = await createProxy({ addons: [UpdateAltSvc] });
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  const headersVia = (url: string): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile('curl', ['-sS', '-D', '-', '-o', '/dev/null', '-x', proxy.url, url], (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );

  it('curl never sees an HTTP/3 advertisement', async () => {
    expect(await headersVia(`${server.url}/`)).toMatch(/\r\nalt-svc: h2=":443"; ma=86400\r\n/i);
    expect(await headersVia(`${server.url}/only-h3`)).not.toMatch(/alt-svc/i);
  });
});
