import { describe, expect, it } from 'vitest';
import { Headers } from '../../src/flow/index.js';

const raw = (h: Headers) => h.fields.map(([k, v]) => [k.toString('latin1'), v.toString('latin1')]);

describe('Headers', () => {
  it('looks names up case-insensitively and folds repeated fields', () => {
    const h = new Headers([
      ['Host', 'example.com'],
      ['Accept', 'text/html'],
      ['accept', 'application/xml'],
    ]);
    expect(h.get('host')).toBe('example.com');
    expect(h.get('ACCEPT')).toBe('text/html, application/xml');
    expect(h.getAll('Accept')).toEqual(['text/html', 'application/xml']);
    expect(h.get('missing')).toBeUndefined();
    expect(h.getAll('missing')).toEqual([]);
    expect(h.has('HOST')).toBe(true);
    expect(h.has('x')).toBe(false);
  });

  it('keeps original case and order; keys/items/size count distinct names', () => {
    const h = new Headers([
      ['A', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    expect(h.keys()).toEqual(['A', 'b']);
    expect(Array.from(h)).toEqual(['A', 'b']);
    expect(h.items()).toEqual([
      ['A', '1, 3'],
      ['b', '2'],
    ]);
    expect(h.items(true)).toEqual([
      ['A', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    expect(h.size).toBe(2);
  });

  it('setAll replaces in place, drops surplus fields and appends extra values (as mitmproxy)', () => {
    const h = new Headers([
      ['A', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    h.setAll('a', ['x']);
    expect(raw(h)).toEqual([
      ['A', 'x'],
      ['b', '2'],
    ]);
    h.setAll('A', ['p', 'q', 'r']);
    expect(raw(h)).toEqual([
      ['A', 'p'],
      ['b', '2'],
      ['A', 'q'],
      ['A', 'r'],
    ]);
    expect(h.toString()).toBe('A: p\r\nb: 2\r\nA: q\r\nA: r\r\n');
    expect(h.toBuffer().toString()).toBe('A: p\r\nb: 2\r\nA: q\r\nA: r\r\n');
  });

  it('set, add, insert, delete, pop, setDefault', () => {
    const h = new Headers();
    expect(h.toString()).toBe('');
    h.set('Content-Type', 'text/plain');
    h.add('X-A', '1');
    h.add('x-a', '2');
    h.insert(0, 'First', 'yes');
    h.insert(-1, 'Before-Last', 'ok');
    expect(h.keys()).toEqual(['First', 'Content-Type', 'X-A', 'Before-Last']);
    expect(raw(h).map(([k]) => k)).toEqual(['First', 'Content-Type', 'X-A', 'Before-Last', 'x-a']);
    expect(h.delete('x-A')).toBe(true);
    expect(h.delete('x-A')).toBe(false);
    expect(h.pop('first')).toBe('yes');
    expect(h.pop('first', 'dflt')).toBe('dflt');
    expect(h.setDefault('content-type', 'x')).toBe('text/plain');
    expect(h.setDefault('new', 'v')).toBe('v');
    expect(h.get('NEW')).toBe('v');
    h.set('multi', ['1', '2']);
    expect(h.getAll('multi')).toEqual(['1', '2']);
  });

  it('stores raw bytes: latin1 strings round-trip every byte, other text is UTF-8 encoded', () => {
    const bytes = Buffer.from([0x61, 0xe9, 0xff, 0x00]);
    const h = Headers.fromRaw([[Buffer.from('X-Bin'), bytes]]);
    expect(h.get('x-bin')).toBe('a\u00e9\u00ff\u0000');
    h.set('x-copy', h.get('x-bin')!);
    expect(h.fields[1]![1].equals(bytes)).toBe(true);
    h.set('x-utf8', 'я');
    expect(h.fields[2]![1]).toEqual(Buffer.from('я', 'utf8'));
    // A name given with non-latin1 characters is matched by its UTF-8 bytes.
    h.set('имя', 'v');
    expect(h.get('имя')).toBe('v');
  });

  it('fromRaw adopts the array without copying; copy() does not share it', () => {
    const fields: Array<[Buffer, Buffer]> = [[Buffer.from('a'), Buffer.from('1')]];
    const h = Headers.fromRaw(fields);
    expect(h.fields).toBe(fields);
    const c = h.copy();
    c.set('a', '2');
    expect(h.get('a')).toBe('1');
    expect(c.get('a')).toBe('2');
    expect(h.equals(Headers.fromRaw([[Buffer.from('a'), Buffer.from('1')]]))).toBe(true);
    expect(h.equals(c)).toBe(false);
  });

  it('mutations assign a new fields array, so the runtime can detect changes by identity', () => {
    const parsed: Array<[Buffer, Buffer]> = [[Buffer.from('A'), Buffer.from('1')]];
    const h = Headers.fromRaw(parsed);
    h.get('a');
    h.has('a');
    h.toString();
    expect(h.fields).toBe(parsed);
    for (const mutate of [
      (x: Headers) => x.add('b', '2'),
      (x: Headers) => x.insert(0, 'b', '2'),
      (x: Headers) => x.set('a', '2'),
      (x: Headers) => x.delete('a'),
    ]) {
      const y = Headers.fromRaw(parsed);
      mutate(y);
      expect(y.fields).not.toBe(parsed);
    }
    expect(parsed.length).toBe(1);
    expect(parsed[0]![1].toString()).toBe('1');
  });

  it('builds from objects and other inputs; state round-trips', () => {
    const h = Headers.fromObject({ 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'] });
    expect(h.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(Headers.from(h)).toBe(h);
    expect(Headers.from([['a', 'b']]).get('a')).toBe('b');
    expect(Headers.from({ x: 'y' }).get('X')).toBe('y');
    expect(Headers.from(null).fields).toEqual([]);
    const copy = new Headers(h);
    expect(copy.equals(h)).toBe(true);
    expect(copy.fields).not.toBe(h.fields);
    const state = h.getState();
    expect(state.every(([k, v]) => Buffer.isBuffer(k) && Buffer.isBuffer(v))).toBe(true);
    expect(Headers.fromState(state).equals(h)).toBe(true);
    expect(h.toJSON()).toEqual(h.items(true));
  });
});
