/** permessage-deflate: RFC 7692 section 7.2.3's examples, context takeover, the proxy's own compressor, both zlib routes. */
import { Buffer } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DeflateDirection,
  type DeflateParams,
  WebSocketError,
  WebSocketErrorCodes as C,
} from '../../src/proxy/websocket/index.js';
import { SyncZlib } from '../../src/proxy/websocket/zlib-sync.js';
import { hex, thrown } from './helpers.js';

const TAKEOVER: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const NO_TAKEOVER: DeflateParams = { ...TAKEOVER, serverNoContextTakeover: true, clientNoContextTakeover: true };
const TAIL = hex('00 00 ff ff');

/** A peer's inflater: what a receiver decodes from our compressed messages. */
function peerInflate(messages: Buffer[]): string[] {
  const z = new SyncZlib('inflate', { windowBits: 15 });
  return messages.map((m) => z.process(Buffer.concat([m, TAIL])).toString());
}

describe.each([true, false])('DeflateDirection (zlib handle: %s)', (viaHandle) => {
  const dir = (params: DeflateParams, fromClient = false) => new DeflateDirection(params, fromClient, { viaHandle });

  it('inflates the examples of RFC 7692 section 7.2.3', () => {
    const d = dir(NO_TAKEOVER);
    expect(d.inflate([hex('f2 48 cd c9 c9 07 00')], 100).toString()).toBe('Hello'); // 7.2.3.1
    expect(d.inflate([hex('f2 48 cd'), hex('c9 c9 07 00')], 100).toString()).toBe('Hello'); // 7.2.3.3 fragmented
    expect(d.inflate([hex('00 05 00 fa ff 48 65 6c 6c 6f 00')], 100).toString()).toBe('Hello'); // 7.2.3.4 stored block
    expect(d.inflate([hex('f3 48 cd c9 c9 07 00 00')], 100).toString()).toBe('Hello'); // 7.2.3.5 BFINAL
    expect(d.inflate([hex('f2 48 cd c9 c9 07 00')], 100).toString()).toBe('Hello'); // a new stream after BFINAL
    expect(d.inflate([hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00')], 100).toString()).toBe('Hello'); // 7.2.3.6 two blocks
    expect(d.inflate([hex('00')], 100).toString()).toBe(''); // an empty message
  });

  it('follows the sender across messages with context takeover (7.2.3.2)', () => {
    const d = dir(TAKEOVER);
    expect(d.inflate([hex('f2 48 cd c9 c9 07 00')], 100).toString()).toBe('Hello');
    expect(d.inflate([hex('f2 00 11 00 00')], 100).toString()).toBe('Hello');
  });

  it('refuses data that does not inflate (1007) and decoded messages over the limit (1009)', () => {
    const bad = thrown(() => dir(TAKEOVER).inflate([hex('ff ff ff ff')], 100), WebSocketError);
    expect([bad.code, bad.closeCode]).toEqual([C.BAD_COMPRESSION, 1007]);
    const bomb = new DeflateDirection(TAKEOVER, false, { viaHandle }).deflate(Buffer.alloc(1 << 20));
    expect(bomb.length).toBeLessThan(2000);
    const e = thrown(() => dir(TAKEOVER).inflate([bomb], 65536), WebSocketError);
    expect([e.code, e.closeCode]).toEqual([C.TOO_BIG, 1009]);
  });

  it('compresses with its own context: the tail stripped, decodable by a peer, later messages referring to earlier ones', () => {
    const d = dir(TAKEOVER, true);
    expect(d.mustReencode).toBe(false);
    const msgs = ['Hello, proxy!', 'Hello, proxy!', 'Hello again, proxy!'].map((s) => d.deflate(Buffer.from(s)));
    expect(d.mustReencode).toBe(true);
    expect(msgs.some((m) => m.subarray(-4).equals(TAIL))).toBe(false);
    expect(msgs[1]!.length).toBeLessThan(msgs[0]!.length); // the second refers to the first
    expect(peerInflate(msgs)).toEqual(['Hello, proxy!', 'Hello, proxy!', 'Hello again, proxy!']);
  });

  it('resets its compressor per message without context takeover, and never diverges', () => {
    const d = dir(NO_TAKEOVER, true);
    const a = d.deflate(Buffer.from('Hello, proxy!'));
    const b = d.deflate(Buffer.from('Hello, proxy!'));
    expect(b.equals(a)).toBe(true);
    expect(d.mustReencode).toBe(false);
    expect(inflateRawSync(Buffer.concat([b, TAIL]), { finishFlush: 2 }).toString()).toBe('Hello, proxy!');
    d.diverge();
    expect(d.mustReencode).toBe(false);
  });

  it('uses the agreed window for its compressor (client_max_window_bits=9)', () => {
    const d = new DeflateDirection({ ...TAKEOVER, clientMaxWindowBits: 9 }, true, { viaHandle });
    expect(d.windowBits).toBe(9);
    const text = Buffer.from('abcdefghij'.repeat(40) + 'x'.repeat(600) + 'abcdefghij'.repeat(40));
    const z = new SyncZlib('inflate', { windowBits: 9 });
    expect(z.process(Buffer.concat([d.deflate(text), TAIL])).equals(text)).toBe(true);
  });

  it('compresses an empty message to the single byte 00', () => {
    expect(dir(TAKEOVER).deflate(Buffer.alloc(0))).toEqual(hex('00'));
  });
});
