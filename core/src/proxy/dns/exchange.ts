/**
 * One DNS query as a flow (mitmproxy's DNS layer): `dns_request` (an addon may answer with
 * `flow.response`, fail it with `flow.error`, kill it, or name the name server to ask in
 * `flow.serverConn.address`), then the query goes to that server, then `dns_response`, or
 * `dns_error` and a SERVFAIL answer. The same for queries over UDP and over TCP.
 */
import {
  DNSFlow,
  type DNSMessage,
  DNSResponseCode,
  FlowError,
  Server,
  type Client,
  type Flow,
} from '../../flow/index.js';
import type { Address } from '../../flow/state.js';
import type { HookTable } from '../../hooks/dispatcher.js';
import type { Logger } from '../../kernel/log.js';
import { UpstreamError } from '../errors.js';
import { DnsWireError } from './errors.js';
import { forwardQuery } from './forward.js';
import { packMessage, unpackMessage } from './message.js';

/** What a DNS exchange needs from the listener it came through. */
export interface DnsContext {
  readonly client: Client;
  readonly hooks: HookTable;
  readonly log: Logger;
  /** The name server every query goes to (`reverse:dns://host`), or null (an addon decides). */
  readonly target: Address | null;
  /** How the query came, and so how it is forwarded (a TCP query may need a long answer). */
  readonly transport: 'udp' | 'tcp';
  describe(): string;
  track(flow: Flow): void;
}

const NO_RESOLVER =
  'No addon answered this DNS query and no name server was set for it (flow.serverConn.address): load the dnsresolver addon (it is in the default build), or use reverse:dns://SERVER.';

/** Answer one query: the bytes to send back, or null to send nothing (killed, or not a DNS message at all). */
export async function answerQuery(ctx: DnsContext, data: Buffer): Promise<Buffer | null> {
  let request: DNSMessage;
  try {
    request = unpackMessage(data);
  } catch (err) {
    if (!(err instanceof DnsWireError)) throw err;
    ctx.log.info(`${ctx.describe()}: malformed DNS query: ${err.message}`);
    return formatError(data);
  }
  const flow = new DNSFlow(ctx.client, new Server({ address: ctx.target, transportProtocol: ctx.transport }), true);
  flow.request = request;
  ctx.track(flow);
  try {
    return await run(ctx, flow);
  } finally {
    flow.live = false;
  }
}

async function run(ctx: DnsContext, flow: DNSFlow): Promise<Buffer | null> {
  if (await hook(ctx.hooks, 'dns_request', flow)) return null;
  const target = flow.serverConn.address;
  if (flow.response === null && flow.error === null) {
    if (target === null) flow.error = new FlowError(NO_RESOLVER);
    else {
      try {
        flow.response = unpackMessage(await forwardQuery(packMessage(flow.request), target, ctx.transport));
      } catch (err) {
        if (!(err instanceof UpstreamError || err instanceof DnsWireError)) throw err;
        flow.error = new FlowError(
          err instanceof DnsWireError ? `Malformed DNS answer from ${target[0]}: ${err.message}` : err.message,
        );
      }
    }
  }
  if (flow.response !== null) {
    if (await hook(ctx.hooks, 'dns_response', flow)) return null;
    if (flow.response !== null) return packMessage(flow.response);
  }
  ctx.log.debug(
    `${ctx.describe()}: DNS query for ${flow.request.questions[0]?.name ?? '?'} failed: ${flow.error?.msg}`,
  );
  if (await hook(ctx.hooks, 'dns_error', flow)) return null;
  return packMessage(flow.request.fail(DNSResponseCode.SERVFAIL));
}

/** Run a DNS hook; true if it killed the flow. */
async function hook(
  table: HookTable,
  name: 'dns_request' | 'dns_response' | 'dns_error',
  flow: DNSFlow,
): Promise<boolean> {
  const r = table.triggerFlow(name, flow);
  if (r) await r;
  return flow.error?.msg === FlowError.KILLED_MESSAGE;
}

/** FORMERR for a query that has at least a header (its id), else nothing. */
function formatError(data: Buffer): Buffer | null {
  if (data.length < 12) return null;
  const out = Buffer.alloc(12);
  data.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | (data.readUInt16BE(2) & 0x7900) | DNSResponseCode.FORMERR, 2);
  return out;
}
