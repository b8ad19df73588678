import { describe, expect, it } from 'vitest';
import { HTTPHeaders, HTTPFlow, HTTPRequest, Server } from '@mitmts/sdk';
import { tflow, withAddons } from '@mitmts/sdk/testing';
import { parseUpstreamAuth, UpstreamAuth } from '@mitmts/addon-upstreamauth';

const ALICE = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;

function flowIn(mode: string, scheme: 'http' | 'https'): HTTPFlow {
  const f = tflow();
  f.clientConn.proxyMode = mode;
  f.request.scheme = scheme;
  return f;
}

describe('upstream_auth', () => {
  it('parses user:pass into a Basic header value, and refuses anything else', () => {
    expect(parseUpstreamAuth('alice:s3cret')).toBe(ALICE);
    expect(parseUpstreamAuth(null)).toBeNull();
    expect(() => parseUpstreamAuth('alice')).toThrow(
      'Invalid upstream auth specification: "alice" (expected username:password, one colon).',
    );
    expect(() => parseUpstreamAuth('a:b:c')).toThrow(/Invalid upstream auth specification/);
  });

  it('adds Proxy-Authorization to the CONNECT sent upstream', async () => {
    const tctx = await withAddons([UpstreamAuth], { upstream_auth: 'alice:s3cret' });
    const f = new HTTPFlow(tflow().clientConn, new Server({ address: ['example.com', 443] }));
    f.request = new HTTPRequest({
      host: 'example.com',
      port: 443,
      method: 'CONNECT',
      scheme: '',
      authority: 'example.com:443',
      path: '',
      httpVersion: 'HTTP/1.1',
      headers: new HTTPHeaders(),
      content: Buffer.alloc(0),
      timestampStart: 0,
    });
    await tctx.trigger('http_connect_upstream', f);
    expect(f.request.headers.get('proxy-authorization')).toBe(ALICE);
  });

  it('upstream mode: plain HTTP requests get Proxy-Authorization, HTTPS ones not (their CONNECT has it)', async () => {
    const tctx = await withAddons([UpstreamAuth], { upstream_auth: 'alice:s3cret' });
    const http = flowIn('upstream:http://proxy:3128', 'http');
    const https = flowIn('upstream:http://proxy:3128', 'https');
    await tctx.trigger('requestheaders', http);
    await tctx.trigger('requestheaders', https);
    expect(http.request.headers.get('proxy-authorization')).toBe(ALICE);
    expect(https.request.headers.has('proxy-authorization')).toBe(false);
  });

  it('reverse mode: Authorization; regular mode: nothing', async () => {
    const tctx = await withAddons([UpstreamAuth], { upstream_auth: 'alice:s3cret' });
    const reverse = flowIn('reverse:https://api.example', 'https');
    const regular = flowIn('regular', 'http');
    await tctx.trigger('requestheaders', reverse);
    await tctx.trigger('requestheaders', regular);
    expect(reverse.request.headers.get('authorization')).toBe(ALICE);
    expect(regular.request.headers.has('authorization') || regular.request.headers.has('proxy-authorization')).toBe(
      false,
    );
  });

  it('does nothing while unset', async () => {
    const tctx = await withAddons([UpstreamAuth]);
    const f = flowIn('upstream:http://proxy:3128', 'http');
    await tctx.trigger('requestheaders', f);
    expect(f.request.headers.has('proxy-authorization')).toBe(false);
  });
});
