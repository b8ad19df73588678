import dgram from 'node:dgram';
import net from 'node:net';
import { Client } from '../../flow/index.js';
import type { Address } from '../../flow/state.js';
import type { ClientConnection, ProxyRuntime } from '../connection.js';
import { answerQuery, type DnsContext } from '../dns/exchange.js';
import { frameTcp, TcpMessageReader } from '../dns/message.js';
import type { ProxyMode } from '../modes.js';

/** The name server every query goes to: `reverse:dns://host[:port]`; null in dns mode (an addon resolves). */
export function dnsTarget(mode: ProxyMode): Address | null {
  return mode.type === 'reverse' && mode.server ? [mode.server.host, mode.server.port] : null;
}

/**
 * DNS over TCP (dns mode and `reverse:dns`, on the same port as the UDP side): length-prefixed
 * queries, answered in order, each one a DNS flow.
 */
export async function dnsTcpMode(conn: ClientConnection): Promise<void> {
  const ctx: DnsContext = {
    client: conn.client,
    hooks: conn.hooks,
    log: conn.log,
    target: dnsTarget(conn.proxyMode),
    transport: 'tcp',
    describe: () => conn.describe(),
    track: (f) => conn.track(f),
  };
  const socket = conn.socket;
  const reader = new TcpMessageReader();
  let queue: Promise<void> = Promise.resolve();
  socket.on('data', (chunk: Buffer) => {
    for (const msg of reader.push(chunk)) {
      const query = Buffer.from(msg);
      queue = queue.then(async () => {
        const answer = await answerQuery(ctx, query);
        if (answer !== null && !socket.destroyed) socket.write(frameTcp(answer));
      });
    }
  });
  socket.on('end', () => void queue.then(() => socket.end()));
  socket.resume();
}

/** Idle UDP peers are forgotten (`client_disconnected`) after this long. */
const UDP_IDLE_MS = 30_000;

interface UdpPeer {
  readonly client: Client;
  lastSeen: number;
  /** `client_connected` refused it (client.error): its datagrams are dropped. */
  refused: boolean;
  ready: Promise<void>;
}

/**
 * The UDP side of dns mode and `reverse:dns`: one datagram, one query, one DNS flow. Each peer
 * (address and port) is a client with `client_connected` on its first query and
 * `client_disconnected` once idle for 30 s, as mitmproxy does for UDP "connections".
 */
export class DnsUdpListener {
  private readonly peers = new Map<string, UdpPeer>();
  private readonly sweep: NodeJS.Timeout;

  private constructor(
    private readonly runtime: ProxyRuntime,
    private readonly mode: ProxyMode,
    private readonly socket: dgram.Socket,
  ) {
    socket.on('message', (msg, from) => this.onMessage(msg, from));
    socket.on('error', (err) => runtime.log.error(`DNS server error (${mode.fullSpec}): ${err.message}`));
    this.sweep = setInterval(() => this.forgetIdle(Date.now() - UDP_IDLE_MS), UDP_IDLE_MS / 3);
    this.sweep.unref();
  }

  /** Bind `host:port` for UDP (the TCP listener of the mode has the same port). */
  static listen(runtime: ProxyRuntime, mode: ProxyMode, host: string, port: number): Promise<DnsUdpListener> {
    const socket = dgram.createSocket({ type: net.isIPv6(host) || host === '' ? 'udp6' : 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      socket.once('error', (err) =>
        reject(new Error(`Cannot listen on ${host || '*'}:${port}/udp for mode ${mode.fullSpec}: ${err.message}`)),
      );
      socket.bind({ port, ...(host ? { address: host } : {}) }, () => {
        socket.removeAllListeners('error');
        resolve(new DnsUdpListener(runtime, mode, socket));
      });
    });
  }

  close(): Promise<void> {
    clearInterval(this.sweep);
    this.forgetIdle(Infinity);
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(msg: Buffer, from: dgram.RemoteInfo): void {
    const peer = this.peer(from);
    peer.lastSeen = Date.now();
    void peer.ready
      .then(async () => {
        if (peer.refused) return;
        const ctx: DnsContext = {
          client: peer.client,
          hooks: this.runtime.hooks,
          log: this.runtime.log,
          target: dnsTarget(this.mode),
          transport: 'udp',
          describe: () => `${from.family === 'IPv6' ? `[${from.address}]` : from.address}:${from.port}`,
          track: (f) => this.runtime.track(f),
        };
        const answer = await answerQuery(ctx, msg);
        if (answer !== null) this.socket.send(answer, from.port, from.address);
      })
      .catch((err: unknown) =>
        this.runtime.log.error(
          `DNS query from ${from.address}:${from.port}: internal error: ${(err as Error)?.stack ?? String(err)}`,
        ),
      );
  }

  private peer(from: dgram.RemoteInfo): UdpPeer {
    const key = `${from.address}|${from.port}`;
    const p = this.peers.get(key);
    if (p) return p;
    const local = this.socket.address();
    const client = new Client({
      peername: [from.address, from.port],
      sockname: [local.address, local.port],
      transportProtocol: 'udp',
      timestampStart: Date.now() / 1000,
      proxyMode: this.mode.fullSpec,
    });
    const peer: UdpPeer = { client, lastSeen: Date.now(), refused: false, ready: Promise.resolve() };
    const r = this.runtime.hooks.trigger('client_connected', client);
    const check = (): void => {
      if (client.error) {
        peer.refused = true;
        this.runtime.log.info(`${from.address}:${from.port}: client refused: ${client.error}`);
      }
    };
    if (r) peer.ready = r.then(check);
    else check();
    this.peers.set(key, peer);
    return peer;
  }

  private forgetIdle(before: number): void {
    for (const [key, p] of this.peers) {
      if (p.lastSeen > before) continue;
      this.peers.delete(key);
      p.client.timestampEnd = Date.now() / 1000;
      const r = this.runtime.hooks.trigger('client_disconnected', p.client);
      if (r) r.catch(() => undefined);
    }
  }
}
