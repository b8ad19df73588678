import type { Duplex } from 'node:stream';
import { FlowError, TCPFlow, TCPMessage, type Server } from '../flow/index.js';
import type { HookTable } from '../hooks/dispatcher.js';
import type { ClientConnection } from './connection.js';

/**
 * The raw TCP layer: a TCPFlow with `tcp_start`, one `tcp_message` per chunk in either
 * direction (an addon may change `flow.messages.at(-1).content`), then `tcp_end` or `tcp_error`.
 * Chunks of one direction are delivered in order; the two directions do not wait for each other.
 * A killed flow (in `tcp_start`, in `tcp_message`, or by a command between two messages) stops:
 * nothing more is forwarded, both connections close, and `tcp_error` fires with the kill.
 */
export async function relayTcp(
  conn: ClientConnection,
  client: Duplex,
  clientData: Buffer,
  sc: { readonly server: Server; readonly socket: Duplex },
  serverData: Buffer,
): Promise<void> {
  const table = conn.hooks;
  const flow = new TCPFlow(conn.client, sc.server, true);
  conn.track(flow);
  const s = table.triggerFlow('tcp_start', flow);
  if (s) await s;
  if (killed(flow)) {
    client.destroy();
    sc.socket.destroy();
    return tcpEnd(table, flow);
  }
  const server = sc.socket;
  const hasHooks = table.has('tcp_message');
  let error: string | null = null;
  let finished = false;

  const lane = (from: Duplex, to: Duplex, fromClient: boolean): ((chunk: Buffer) => void) => {
    let queue: Promise<void> = Promise.resolve();
    return (chunk: Buffer) => {
      if (finished) return;
      if (killed(flow)) return stop();
      const msg = new TCPMessage(fromClient, chunk);
      flow.messages.push(msg);
      if (!hasHooks) {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
        return;
      }
      from.pause();
      queue = queue.then(async () => {
        const r = table.triggerFlow('tcp_message', flow);
        if (r) await r;
        if (killed(flow)) return stop();
        if (msg.content.length > 0) to.write(msg.content);
        from.resume();
      });
    };
  };

  let stop = (): void => undefined;
  const toServer = lane(client, server, true);
  const toClient = lane(server, client, false);
  client.on('data', toServer);
  server.on('data', toClient);
  const done = new Promise<void>((resolve) => {
    const finish = (): void => {
      if (finished) return;
      finished = true;
      client.destroy();
      server.destroy();
      resolve();
    };
    stop = finish;
    client.once('close', finish);
    server.once('close', finish);
    client.on('end', () => server.end());
    server.on('end', () => client.end());
    client.on('error', (e: Error) => (error ??= `Client connection error: ${e.message}`));
    server.on('error', (e: Error) => (error ??= `Server connection error: ${e.message}`));
  });
  if (clientData.length) toServer(clientData);
  if (serverData.length) toClient(serverData);
  client.resume();
  server.resume();
  await done;
  if (error && !killed(flow)) flow.error = new FlowError(error);
  return tcpEnd(table, flow);
}

/** The flow is over: `tcp_error` if it has an error (a kill among them), else `tcp_end`. */
async function tcpEnd(table: HookTable, flow: TCPFlow): Promise<void> {
  flow.live = false;
  const r = table.triggerFlow(flow.error ? 'tcp_error' : 'tcp_end', flow);
  if (r) await r;
}

function killed(flow: TCPFlow): boolean {
  return flow.error !== null && flow.error.msg === FlowError.KILLED_MESSAGE;
}
