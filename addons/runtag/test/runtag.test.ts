import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy, HTTPHeaders, parseRunTag, runTagCredentials, type EmbeddedProxy } from '@mitmts/sdk';
import { tclientConn, tflow, treq, withAddon } from '@mitmts/sdk/testing';
import { RunTagger } from '../src/index.js';

const TAG = { id: 'a1b2c3', cmd: "node client.mjs --flag 'x y'" };
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const { user, password } = runTagCredentials(TAG);
const withAuth = (auth: string) =>
  treq({
    headers: new HTTPHeaders([
      ['proxy-authorization', auth],
      ['accept', '*/*'],
    ]),
  });

describe('runtag (unit)', () => {
  it('reads the tag from Proxy-Authorization into the metadata and removes the credentials', async () => {
    const tctx = await withAddon(RunTagger);
    const f = tflow({ req: withAuth(basic(user, password)) });
    await tctx.trigger('requestheaders', f);
    expect(f.metadata).toEqual({ 'mitmts.run': TAG.cmd, 'mitmts.run_id': TAG.id });
    expect(f.request.headers.items(true)).toEqual([['accept', '*/*']]);
  });

  it('tags the flows of a tunnel with the tag of its CONNECT, until the client goes', async () => {
    const tctx = await withAddon(RunTagger);
    const client = tclientConn();
    const connect = tflow({ clientConn: client, req: withAuth(basic(user, password)) });
    await tctx.trigger('http_connect', connect);
    const inner = tflow({ clientConn: client });
    await tctx.trigger('requestheaders', inner);
    expect(inner.metadata['mitmts.run']).toBe(TAG.cmd);
    await tctx.trigger('client_disconnected', client);
    const after = tflow({ clientConn: client });
    await tctx.trigger('requestheaders', after);
    expect(after.metadata).toEqual({});
  });

  it('leaves other credentials and untagged flows alone', async () => {
    const tctx = await withAddon(RunTagger);
    const other = tflow({ req: withAuth(basic('alice', 'secret')) });
    await tctx.trigger('requestheaders', other);
    expect(other.request.headers.get('proxy-authorization')).toBe(basic('alice', 'secret'));
    expect(other.metadata).toEqual({});
    for (const bad of [
      basic(user, 'not-base64-json'),
      'Bearer x',
      basic(user, Buffer.from('{"id":1}').toString('base64url')),
    ]) {
      expect(parseRunTag(bad), bad).toBeNull();
    }
  });

  it('round-trips tags, cutting long command lines', () => {
    expect(parseRunTag(basic(user, password))).toEqual(TAG);
    const long = runTagCredentials({ id: 'x', cmd: 'y'.repeat(1000) });
    expect(parseRunTag(basic(long.user, long.password))!.cmd).toHaveLength(300);
  });
});

describe('runtag (through a proxy)', () => {
  let proxy: EmbeddedProxy;
  let origin: Server;
  const seen: Array<string | undefined> = [];
  beforeAll(async () => {
    origin = createServer((req, res) => {
      seen.push(req.headers['proxy-authorization']);
      res.end('ok');
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    proxy = await createProxy({ addons: [RunTagger] });
  });
  afterAll(async () => {
    await proxy.close();
    origin.close();
  });

  it('tags a plain HTTP request and never forwards the credentials', async () => {
    const port = (origin.address() as AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: proxy.host,
          port: proxy.port,
          path: `http://127.0.0.1:${port}/tagged`,
          headers: { 'proxy-authorization': basic(user, password) },
        },
        (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('ok');
    expect(seen).toEqual([undefined]);
    const flow = proxy.flows
      .all()
      .find((f) => f.type === 'http' && (f as import('@mitmts/sdk').HTTPFlow).request.path === '/tagged')!;
    expect(flow.metadata).toEqual({ 'mitmts.run': TAG.cmd, 'mitmts.run_id': TAG.id });
  });
});
