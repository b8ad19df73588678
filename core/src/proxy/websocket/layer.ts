/**
 * The WebSocket layer: what follows a WebSocket handshake (an HTTP/1 101, or an HTTP/2 extended
 * CONNECT answered with 200, RFC 8441: then both streams are HTTP/2 streams as Duplexes) on a
 * live connection. It wires both peers' streams to a {@link WebSocketRelay} and runs the flow's hooks:
 * `websocket_start`, one `websocket_message` per message (either direction, injected ones too),
 * `websocket_end` exactly once however the connection ends (close handshake, protocol error or
 * limit, a peer's TCP connection lost, the flow killed, the close timeout).
 *
 * Backpressure: a peer is read only while the other one takes what the relay writes (a full
 * socket pauses the sender until `drain`) and while no async hook holds its direction, so the
 * proxy buffers at most one read beyond the message being assembled.
 */
import type { Duplex } from 'node:stream';
import type { Flow, HTTPFlow } from '../../flow/index.js';
import { FlowError } from '../../flow/index.js';
import type { HookTable } from '../../hooks/dispatcher.js';
import type { Logger } from '../../kernel/log.js';
import type { RuntimeConfig } from '../config.js';
import type { UpgradedStream } from '../http/sides.js';
import { pipeBoth } from '../relay.js';
import { CloseCode, type WebSocketError, WebSocketHandshakeError } from './errors.js';
import { type Agreement, checkTunnelResponse, checkUpgradeResponse, isWebSocketTunnel } from './handshake.js';
import { type RelayEnd, WebSocketRelay } from './relay.js';

/** How long a peer has to answer a close frame before both connections are closed. */
export const CLOSE_TIMEOUT_MS = 10_000;

/** The live relays of one proxy, by flow (what `inject.websocket` looks up). */
export type LiveWebSockets = Map<Flow, WebSocketRelay>;

/** What the layer needs from the client connection it runs on. */
export interface WebSocketContext {
  /** The current hook table (read per hook: a long session sees reloaded scripts). */
  readonly hooks: HookTable;
  readonly log: Logger;
  readonly config: RuntimeConfig;
  readonly webSockets: LiveWebSockets;
  /** `host:port` of the client, for log lines. */
  describe(): string;
  /** @internal For tests: another close timeout than {@link CLOSE_TIMEOUT_MS}. */
  readonly closeTimeoutMs?: number;
}

/**
 * One peer's stream. Read only after `websocket_start`, and paused while the relay holds its
 * direction for an async hook or the other peer's socket is full.
 */
class Peer {
  private started = false;
  private held = false;
  private blocked = false;

  constructor(readonly stream: Duplex) {
    stream.on('error', () => undefined); // 'close' follows; the relay records the loss
  }

  start(): void {
    this.started = true;
    this.update();
  }

  hold(held: boolean): void {
    this.held = held;
    this.update();
  }

  /** The other peer's socket is full: stop reading this one until it drains. */
  blockOn(full: Duplex): void {
    if (this.blocked) return;
    this.blocked = true;
    this.update();
    full.once('drain', () => {
      this.blocked = false;
      this.update();
    });
  }

  write(bytes: Buffer): boolean {
    const s = this.stream;
    return s.destroyed || s.writableEnded ? true : s.write(bytes);
  }

  private update(): void {
    if (this.started && !this.held && !this.blocked) this.stream.resume();
    else this.stream.pause();
  }
}

/**
 * Relay a WebSocket connection whose handshake is `flow` (which has `flow.websocket`). Resolves
 * after `websocket_end`. Connections the codec cannot decode (an agreed extension other than
 * permessage-deflate, a handshake answer a client would refuse) are relayed as bytes, with the
 * same start and end hooks and no messages, and the reason in the log.
 */
export async function relayWebSocket(
  ctx: WebSocketContext,
  flow: HTTPFlow,
  client: UpgradedStream,
  server: UpgradedStream,
): Promise<void> {
  client.stream.pause();
  server.stream.pause();
  let agreement: Agreement;
  try {
    const { request, response } = flow;
    const check = isWebSocketTunnel(request.method, request.headers) ? checkTunnelResponse : checkUpgradeResponse;
    agreement = check(request.headers, response!.statusCode, response!.headers);
  } catch (err) {
    if (!(err instanceof WebSocketHandshakeError)) throw err;
    return relayBytes(ctx, flow, client, server, `the handshake cannot be decoded: ${err.message}`);
  }
  if (agreement.unknownExtensions.length > 0) {
    return relayBytes(
      ctx,
      flow,
      client,
      server,
      `extension ${agreement.unknownExtensions.join(', ')} is not supported`,
    );
  }
  const c = new Peer(client.stream);
  const s = new Peer(server.stream);
  const cfg = ctx.config;
  const data = flow.websocket!;
  data.retention = cfg.websocketRetention;
  let closeTimer: NodeJS.Timeout | null = null;
  let ended!: (how: RelayEnd) => void;
  const end = new Promise<RelayEnd>((resolve) => (ended = resolve));

  const args: [HTTPFlow] = [flow]; // one tuple for every websocket_message of this flow
  const relay: WebSocketRelay = new WebSocketRelay({
    data,
    deflate: agreement.deflate,
    maxMessageSize: cfg.websocketMaxMessageSize,
    onMessage: () => {
      const r = ctx.hooks.triggerFlowWith('websocket_message', args);
      if (r) return r.then(() => closeIfKilled(flow, relay));
      closeIfKilled(flow, relay);
    },
    send: (toClient, bytes) => {
      const to = toClient ? c : s;
      if (!to.write(bytes)) (toClient ? s : c).blockOn(to.stream);
      if (closeTimer === null && relay.closing) closeTimer = closeTimeout(ctx, relay, c, s);
    },
    onEnd: (how) => {
      if (closeTimer !== null) clearTimeout(closeTimer);
      ended(how);
    },
    onError: (e: WebSocketError) => ctx.log.info(`${ctx.describe()}: ${e.describe()}`),
    onControl: (fromClient, opcode, payload) => {
      ctx.log.debug(
        `${ctx.describe()}: WebSocket ${opcode === 9 ? 'ping' : 'pong'} from the ${fromClient ? 'client' : 'server'} (${payload.length} bytes)`,
      );
    },
    onHold: (fromClient, held) => (fromClient ? c : s).hold(held),
  });
  ctx.webSockets.set(flow, relay);
  client.stream.on('data', (b: Buffer) => relay.fromClient(b));
  server.stream.on('data', (b: Buffer) => relay.fromServer(b));
  client.stream.once('close', () => relay.connectionLost(true));
  server.stream.once('close', () => relay.connectionLost(false));

  const started = ctx.hooks.triggerFlow('websocket_start', flow);
  if (started) await started;
  if (killed(flow)) relay.close(CloseCode.GOING_AWAY);
  if (client.rest.length > 0) relay.fromClient(client.rest);
  if (server.rest.length > 0) relay.fromServer(server.rest);
  c.start();
  s.start();

  const how = await end;
  ctx.webSockets.delete(flow);
  finishStreams(ctx.closeTimeoutMs ?? CLOSE_TIMEOUT_MS, c, s);
  if (how === 'lost')
    ctx.log.debug(`${ctx.describe()}: WebSocket connection lost (${data.closedByClient ? 'client' : 'server'} side)`);
  await endFlow(ctx, flow);
}

/** `websocket_end`, then the flow is no longer live. */
async function endFlow(ctx: WebSocketContext, flow: HTTPFlow): Promise<void> {
  const r = ctx.hooks.triggerFlow('websocket_end', flow);
  if (r) await r;
  flow.live = false;
}

function killed(flow: HTTPFlow): boolean {
  return flow.error !== null && flow.error.msg === FlowError.KILLED_MESSAGE;
}

/** The flow was killed (by this message's hook, or since the last message): close frames (1001 Going Away) to both peers. */
function closeIfKilled(flow: HTTPFlow, relay: WebSocketRelay): void {
  if (killed(flow)) relay.close(CloseCode.GOING_AWAY);
}

/** One close frame passed and the other peer has {@link CLOSE_TIMEOUT_MS} to answer. */
function closeTimeout(ctx: WebSocketContext, relay: WebSocketRelay, c: Peer, s: Peer): NodeJS.Timeout {
  const ms = ctx.closeTimeoutMs ?? CLOSE_TIMEOUT_MS;
  const t = setTimeout(() => {
    if (relay.ended) return;
    ctx.log.info(
      `${ctx.describe()}: no answer to the WebSocket close frame within ${ms / 1000} s; closing both connections.`,
    );
    relay.connectionLost(true);
    c.stream.destroy();
    s.stream.destroy();
  }, ms);
  t.unref();
  return t;
}

/**
 * The relay ended: each stream gets what was written to it, then the end of the stream (a peer
 * whose connection was lost sees the other's end as it happened: no close frame is invented).
 * Peers that keep their side open are closed after {@link CLOSE_TIMEOUT_MS}.
 */
function finishStreams(ms: number, ...peers: Peer[]): void {
  for (const p of peers) {
    const st = p.stream;
    if (st.destroyed) continue;
    st.end();
    const t = setTimeout(() => st.destroy(), ms);
    t.unref();
    st.once('close', () => clearTimeout(t));
  }
}

/** Relay a WebSocket connection as bytes (it cannot be decoded): start and end hooks, no messages. */
async function relayBytes(
  ctx: WebSocketContext,
  flow: HTTPFlow,
  client: UpgradedStream,
  server: UpgradedStream,
  why: string,
): Promise<void> {
  ctx.log.info(`${ctx.describe()}: WebSocket messages of ${flow.request.prettyUrl} are relayed as bytes: ${why}.`);
  for (const st of [client.stream, server.stream]) st.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    client.stream.once('close', resolve);
    server.stream.once('close', resolve);
  });
  const started = ctx.hooks.triggerFlow('websocket_start', flow);
  if (started) await started;
  pipeBoth(client.stream, client.rest, server.stream, server.rest);
  await closed;
  flow.websocket!.timestampEnd = Date.now() / 1000;
  await endFlow(ctx, flow);
}

/**
 * `inject.websocket`: send `message` to the client (`toClient`) or the server of a live WebSocket
 * flow. Returns null when it was queued, else why not (the command logs it, as mitmproxy warns).
 */
export function injectWebSocket(
  live: LiveWebSockets,
  flow: Flow,
  toClient: boolean,
  message: Buffer,
  isText: boolean,
): string | null {
  const relay = live.get(flow);
  if (relay === undefined) {
    const ws = flow.type === 'http' && (flow as HTTPFlow).websocket !== null;
    return ws
      ? 'Flow is not from a live WebSocket connection.'
      : 'Cannot inject WebSocket messages into non-WebSocket flows.';
  }
  try {
    relay.inject(toClient, message, isText);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
