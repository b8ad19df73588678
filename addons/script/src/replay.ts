import type { Flow, HookName, HTTPFlow, TCPFlow, UDPFlow, DNSFlow } from '@mitmts/sdk';
import { type HookTable } from '@mitmts/sdk/host';

/**
 * Fire the hooks a flow of this type would have seen live, in order (mitmproxy's
 * `eventsequence.iterate`): what `script.run` does with each selected flow. Message lists are
 * replayed one message at a time, so `flow.messages.at(-1)` is "the current message" as live.
 */
export async function replayFlow(table: HookTable, flow: Flow): Promise<void> {
  switch (flow.type) {
    case 'http':
      return replayHttp(table, flow as HTTPFlow);
    case 'tcp':
    case 'udp':
      return replayStream(table, flow as TCPFlow | UDPFlow);
    case 'dns':
      return replayDns(table, flow as DNSFlow);
  }
}

/** The hook names `replayFlow` fires for a flow, in order (messages expanded). */
export function replaySequence(flow: Flow): HookName[] {
  const out: HookName[] = [];
  if (flow.type === 'http') {
    const f = flow as HTTPFlow;
    out.push('requestheaders', 'request');
    if (f.response) out.push('responseheaders', 'response');
    if (f.websocket) {
      out.push('websocket_start');
      for (let i = 0; i < f.websocket.messages.length; i++) out.push('websocket_message');
      out.push('websocket_end');
    } else if (f.error) out.push('error');
  } else if (flow.type === 'tcp' || flow.type === 'udp') {
    const f = flow as TCPFlow | UDPFlow;
    const p = flow.type;
    out.push(`${p}_start`);
    for (let i = 0; i < f.messages.length; i++) out.push(`${p}_message`);
    out.push(f.error ? `${p}_error` : `${p}_end`);
  } else if (flow.type === 'dns') {
    const f = flow as DNSFlow;
    out.push('dns_request');
    if (f.response) out.push('dns_response');
    if (f.error) out.push('dns_error');
  }
  return out;
}

async function fire(table: HookTable, name: HookName, flow: Flow): Promise<void> {
  await (table.trigger as (n: HookName, ...a: unknown[]) => void | Promise<void>)(name, flow);
}

async function replayHttp(table: HookTable, f: HTTPFlow): Promise<void> {
  await fire(table, 'requestheaders', f);
  await fire(table, 'request', f);
  if (f.response) {
    await fire(table, 'responseheaders', f);
    await fire(table, 'response', f);
  }
  if (f.websocket) {
    const queue = f.websocket.messages;
    f.websocket.messages = [];
    await fire(table, 'websocket_start', f);
    for (const m of queue) {
      f.websocket.messages.push(m);
      await fire(table, 'websocket_message', f);
    }
    await fire(table, 'websocket_end', f);
  } else if (f.error) {
    await fire(table, 'error', f);
  }
}

async function replayStream(table: HookTable, f: TCPFlow | UDPFlow): Promise<void> {
  const p = f.type;
  const queue = [...f.messages];
  f.messages.length = 0;
  await fire(table, `${p}_start`, f);
  for (const m of queue) {
    (f.messages as unknown[]).push(m);
    await fire(table, `${p}_message`, f);
  }
  await fire(table, f.error ? `${p}_error` : `${p}_end`, f);
}

async function replayDns(table: HookTable, f: DNSFlow): Promise<void> {
  await fire(table, 'dns_request', f);
  if (f.response) await fire(table, 'dns_response', f);
  if (f.error) await fire(table, 'dns_error', f);
}
