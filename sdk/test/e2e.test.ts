import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPResponse, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { requestVia, startOrigin, waitForFlow, type Origin } from '@mitmts/sdk/testing';

/** Refuses CONNECTs to port 1, kills requests for /kill, stamps the rest. */
const policy = {
  name: 'policy',
  http_connect(flow: HTTPFlow): void {
    if (flow.request.port === 1) flow.response = HTTPResponse.make(403, 'no tunnel for you');
  },
  request(flow: HTTPFlow): void {
    if (flow.request.path === '/kill') flow.kill();
  },
  response(flow: HTTPFlow): void {
    flow.response?.headers.set('x-policy', 'seen');
  },
};

describe('@mitmts/sdk/testing through-the-proxy helpers', () => {
  let origin: Origin;
  let secure: Origin;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    origin = await startOrigin();
    secure = await startOrigin((req, res) => res.end(`secure ${req.url} ${req.body.toString()}`), { tls: true });
    proxy = await createProxy({ addons: [policy], options: { ssl_verify_upstream_trusted_ca: secure.caCertPath } });
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([origin.close(), secure.close()]);
  });

  it('sends plain HTTP in absolute form, and the origin records what it got', async () => {
    const r = await requestVia(proxy, `${origin.url}/a?b=1`, {
      method: 'POST',
      headers: { 'x-test': '1' },
      body: 'hello',
    });
    expect([r.status, r.text, r.headers['x-policy']]).toEqual([200, 'origin POST /a?b=1', 'seen']);
    expect(origin.requests.at(-1)).toMatchObject({
      method: 'POST',
      url: '/a?b=1',
      headers: { 'x-test': '1' },
      body: Buffer.from('hello'),
    });
  });

  it('sends HTTPS through a CONNECT tunnel, trusting the proxy CA; the proxy trusts the origin CA', async () => {
    const r = await requestVia(proxy, `${secure.url}/s`, { method: 'PUT', body: 'x' });
    expect([r.status, r.text, r.headers['x-policy']]).toEqual([200, 'secure /s x', 'seen']);
    expect(secure.url).toMatch(/^https:\/\/localhost:\d+$/);
  });

  it("resolves with the proxy's answer to a refused CONNECT", async () => {
    const r = await requestVia(proxy, 'https://localhost:1/');
    expect(r.status).toBe(403);
  });

  it('rejects with the socket error when the proxy closes the connection', async () => {
    await expect(requestVia(proxy, `${origin.url}/kill`)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('waits for a finished flow by filter or predicate, also one that finished before the call', async () => {
    const later = waitForFlow(proxy, '~u /later & ~s');
    await requestVia(proxy, `${origin.url}/later`);
    const f = (await later) as HTTPFlow;
    expect(f.response!.headers.get('x-policy')).toBe('seen');
    const again = (await waitForFlow(proxy, (x) => (x as HTTPFlow).request.path === '/later')) as HTTPFlow;
    expect(again).toBe(f);
    expect(proxy.kernel.addons.names().filter((n) => n.startsWith('waitForFlow'))).toEqual([]);
  });

  it('names what it saw when no flow matches in time', async () => {
    await expect(waitForFlow(proxy, '~u /never', { timeout: 50 })).rejects.toThrow(
      /^waitForFlow: no finished flow matching ~u \/never within 50 ms \(flows seen: http http:\/\/127\.0\.0\.1:\d+\/a\?b=1/,
    );
  });
});
