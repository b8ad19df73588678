/**
 * Client replay through the proxy runtime (the entry the clientplayback addon uses): a recorded
 * HTTPS flow goes to a real server again, with SNI, through the same hooks.
 */
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addon,
  CLIENT_REPLAY,
  command,
  createProxy,
  hook,
  inject,
  type ClientReplay,
  type EmbeddedProxy,
  type Flow,
  type HTTPFlow,
} from '@mitmts/sdk';
import { curl, httpsServer, type TestCa, type Upstream } from '../helpers/servers.js';

/** An addon that replays flows, as clientplayback will: the runtime's ClientReplay by injection. */
@addon({ name: 'replayer' })
class Replayer {
  readonly events: string[] = [];
  constructor(@inject(CLIENT_REPLAY) private readonly replay: ClientReplay) {}

  @command('test.replay', { args: ['flows'], help: 'Replay the flows.' })
  async replayFlows(flows: Flow[]): Promise<void> {
    for (const f of flows) await this.replay.replay(f as HTTPFlow);
  }

  @hook('requestheaders') rh(f: HTTPFlow): void {
    this.events.push(`requestheaders ${f.isReplay ?? 'live'}`);
  }
  @hook('request') rq(f: HTTPFlow): void {
    this.events.push(`request ${f.isReplay ?? 'live'}`);
    if (f.isReplay) f.request.headers.set('X-Replayed', 'yes');
  }
  @hook('responseheaders') sh(f: HTTPFlow): void {
    this.events.push(`responseheaders ${f.isReplay ?? 'live'}`);
  }
  @hook('response') rs(f: HTTPFlow): void {
    this.events.push(`response ${f.isReplay ?? 'live'}`);
  }
  @hook('error') er(f: HTTPFlow): void {
    this.events.push(`error ${f.isReplay ?? 'live'}: ${f.error?.msg}`);
  }
}

let up: Upstream & { ca: TestCa };
let proxy: EmbeddedProxy;
let replayer: Replayer;
const seen: Array<{ sni: string | false | null; replayed: string | undefined; body: string }> = [];

beforeAll(async () => {
  let n = 0;
  up = await httpsServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      seen.push({
        sni: (req.socket as tls.TLSSocket).servername,
        replayed: req.headers['x-replayed'] as string | undefined,
        body,
      });
      res.end(`answer ${++n} to ${body}`);
    });
  });
  proxy = await createProxy({ addons: [Replayer], options: { ssl_verify_upstream_trusted_ca: up.ca.caCertPath } });
  replayer = proxy.kernel.get<Replayer>('replayer')!;
});

afterAll(async () => {
  await proxy?.close();
  await up?.close();
});

describe('client replay', () => {
  it('replays a recorded HTTPS flow to the real server, with SNI, through the hooks', async () => {
    const live = await curl([
      '-s',
      '--cacert',
      proxy.caCertPath,
      '-x',
      proxy.url,
      '--data-binary',
      'the body',
      `${up.url}/replay-me`,
    ]);
    expect(live.stdout).toBe('answer 1 to the body');
    const flow = proxy.flows
      .all()
      .find((f): f is HTTPFlow => f.type === 'http' && (f as HTTPFlow).request.path === '/replay-me')!;
    expect(flow.response!.text).toBe('answer 1 to the body');
    const liveServer = flow.serverConn;
    replayer.events.length = 0;

    await proxy.kernel.commands.call('test.replay', [flow]);

    expect(replayer.events).toEqual([
      'requestheaders request',
      'request request',
      'responseheaders request',
      'response request',
    ]);
    expect(flow.isReplay).toBe('request');
    expect(flow.live).toBe(false);
    expect(flow.error).toBeNull();
    expect(flow.response!.text).toBe('answer 2 to the body');
    expect(seen.at(-1)).toEqual({ sni: 'localhost', replayed: 'yes', body: 'the body' });
    // A connection of its own, with its TLS facts.
    expect(flow.serverConn).not.toBe(liveServer);
    expect(flow.serverConn.sni).toBe('localhost');
    expect(flow.serverConn.tlsVersion).toMatch(/^TLSv1\.[23]$/);
  });

  it('puts a server that cannot be reached into flow.error', async () => {
    const flow = proxy.flows
      .all()
      .find((f): f is HTTPFlow => f.type === 'http' && (f as HTTPFlow).request.path === '/replay-me')!;
    flow.request.port = 1;
    replayer.events.length = 0;
    await proxy.kernel.resolve(CLIENT_REPLAY).replay(flow);
    expect(flow.response).toBeNull();
    expect(flow.error!.msg).toContain('Failed to connect to localhost:1');
    expect(replayer.events.at(-1)).toMatch(/^error request: Failed to connect/);
  });
});
