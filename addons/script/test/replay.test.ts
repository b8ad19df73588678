import { describe, expect, it } from 'vitest';
import type { Flow, HookName } from '@mitmts/sdk';
import { tdnsflow, terr, tflow, ttcpflow, tudpflow, twebsocketflow, withAddon } from '@mitmts/sdk/testing';
import { replayFlow, replaySequence } from '../src/replay.js';

const HOOKS: HookName[] = [
  'requestheaders',
  'request',
  'responseheaders',
  'response',
  'error',
  'websocket_start',
  'websocket_message',
  'websocket_end',
  'tcp_start',
  'tcp_message',
  'tcp_end',
  'tcp_error',
  'udp_start',
  'udp_message',
  'udp_end',
  'udp_error',
  'dns_request',
  'dns_response',
  'dns_error',
];

async function record(flow: Flow): Promise<string[]> {
  const seen: string[] = [];
  const recorder: Record<string, unknown> = { name: 'recorder' };
  for (const h of HOOKS) {
    recorder[h] = (f: { messages?: unknown[]; websocket?: { messages: unknown[] } | null }) => {
      const n = f.websocket ? f.websocket.messages.length : f.messages ? f.messages.length : null;
      seen.push(n === null ? h : `${h}:${n}`);
    };
  }
  const tctx = await withAddon(recorder);
  await replayFlow(tctx.kernel.addons.table, flow);
  await tctx.done();
  return seen;
}

describe('script.run replay sequence', () => {
  it.each([
    ['an HTTP request', () => tflow(), ['requestheaders', 'request']],
    ['an HTTP exchange', () => tflow({ resp: true }), ['requestheaders', 'request', 'responseheaders', 'response']],
    ['a failed HTTP exchange', () => tflow({ err: true }), ['requestheaders', 'request', 'error']],
    ['a TCP flow', () => ttcpflow(), ['tcp_start', 'tcp_message', 'tcp_message', 'tcp_end']],
    ['a failed UDP flow', () => tudpflow({ err: true }), ['udp_start', 'udp_message', 'udp_message', 'udp_error']],
    ['a DNS flow', () => tdnsflow({ resp: true }), ['dns_request', 'dns_response']],
  ] as const)('lists the hooks of %s', (_what, make, expected) => {
    expect(replaySequence(make())).toEqual(expected);
  });

  it('replays WebSocket messages one at a time, as they arrived', async () => {
    const f = twebsocketflow();
    expect(await record(f)).toEqual([
      'requestheaders:3',
      'request:3',
      'responseheaders:3',
      'response:3',
      'websocket_start:0',
      'websocket_message:1',
      'websocket_message:2',
      'websocket_message:3',
      'websocket_end:3',
    ]);
  });

  it('replays TCP messages one at a time and ends with the error hook when there is one', async () => {
    const f = ttcpflow();
    f.error = terr();
    expect(await record(f)).toEqual(['tcp_start:0', 'tcp_message:1', 'tcp_message:2', 'tcp_error:2']);
  });
});
