import { describe, expect, it } from 'vitest';
import { tdnsflow, tflow, ttcpflow, tudpflow, twebsocketflow } from '@mitmts/sdk/testing';
import type { Flow, HTTPFlow, TCPFlow } from '@mitmts/sdk';
import { eventSequence } from '../src/eventsequence.js';

const hooks = (f: Flow): string[] => [...eventSequence(f)].map(([h]) => h);

describe('eventSequence (mitmproxy eventsequence.iterate)', () => {
  it.each([
    ['request only', () => tflow(), ['requestheaders', 'request']],
    ['response', () => tflow({ resp: true }), ['requestheaders', 'request', 'responseheaders', 'response']],
    ['error', () => tflow({ err: true }), ['requestheaders', 'request', 'error']],
    [
      'response and error',
      () => tflow({ resp: true, err: true }),
      ['requestheaders', 'request', 'responseheaders', 'response', 'error'],
    ],
    [
      'websocket',
      () => twebsocketflow(),
      [
        'requestheaders',
        'request',
        'responseheaders',
        'response',
        'websocket_start',
        'websocket_message',
        'websocket_message',
        'websocket_message',
        'websocket_end',
      ],
    ],
    ['tcp', () => ttcpflow(), ['tcp_start', 'tcp_message', 'tcp_message', 'tcp_end']],
    ['tcp error', () => ttcpflow({ err: true }), ['tcp_start', 'tcp_message', 'tcp_message', 'tcp_error']],
    ['udp', () => tudpflow(), ['udp_start', 'udp_message', 'udp_message', 'udp_end']],
    ['udp error', () => tudpflow({ err: true, messages: [] }), ['udp_start', 'udp_error']],
    ['dns', () => tdnsflow({ resp: true }), ['dns_request', 'dns_response']],
    ['dns error', () => tdnsflow({ err: true }), ['dns_request', 'dns_error']],
  ] as const)('%s', (_name, make, expected) => {
    expect(hooks(make())).toEqual(expected);
  });

  it('re-appends WebSocket messages one at a time', () => {
    const f = twebsocketflow();
    const all = f.websocket!.messages.slice();
    const seen: string[] = [];
    for (const [hook, flow] of eventSequence(f)) {
      const ws = (flow as HTTPFlow).websocket!;
      seen.push(`${hook}:${ws.messages.length}`);
      if (hook === 'websocket_message') expect(ws.messages.at(-1)).toBe(all[ws.messages.length - 1]);
    }
    expect(seen.slice(4)).toEqual([
      'websocket_start:0',
      'websocket_message:1',
      'websocket_message:2',
      'websocket_message:3',
      'websocket_end:3',
    ]);
    expect(f.websocket!.messages).toEqual(all);
  });

  it('re-appends TCP messages one at a time', () => {
    const f = ttcpflow();
    const counts: string[] = [];
    for (const [h, fl] of eventSequence(f)) counts.push(`${h}:${(fl as TCPFlow).messages.length}`);
    expect(counts).toEqual(['tcp_start:0', 'tcp_message:1', 'tcp_message:2', 'tcp_end:2']);
  });
});
