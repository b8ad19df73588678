/** Writing format 21: key for key and type for type, floats as Python writes them. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/filter/index.js';
import { flowFromState, tflow } from '../../src/flow/index.js';
import {
  checkFlowState,
  encodeFlow,
  encodeFlowState,
  FilteredFlowWriter,
  FlowReader,
  FlowWriter,
  tnetstring,
} from '../../src/io/index.js';
import { FLOWS_MITM } from './fixtures.js';

const original = readFileSync(FLOWS_MITM);
const flows = [...new FlowReader(original)];
const tmp = () => mkdtempSync(join(tmpdir(), 'mitmts-io-'));

describe('FlowWriter', () => {
  it('writes files that read back to the same states, each a valid format 21 record', async () => {
    const path = join(tmp(), 'out.mitm');
    const w = new FlowWriter(path);
    for (const f of flows) w.add(f);
    await w.close();
    expect(w.count).toBe(15);
    const bytes = readFileSync(path);
    const states = [...new FlowReader(path).readStates()];
    expect(states).toEqual(flows.map((f) => f.getState()));
    // Raw records, not passed through migration or normalization: exactly format 21.
    let pos = 0;
    while (pos < bytes.length) {
      const { value, end } = tnetstring.decodeAt(bytes, pos);
      expect(checkFlowState(value as Record<string, unknown>)).toEqual([]);
      expect((value as { version: number }).version).toBe(21);
      pos = end;
    }
  });

  it('is stable: rewriting what it read gives the same states and, but for metadata dicts, the same bytes', () => {
    const rewrite = (b: Buffer) => Buffer.concat([...new FlowReader(b)].map((f) => encodeFlow(f)));
    const once = rewrite(original);
    const twice = rewrite(once);
    expect([...new FlowReader(twice).readStates()]).toEqual([...new FlowReader(once).readStates()]);
    // Like mitmproxy, free-form dicts (metadata) are written in reverse of the order they were
    // read in, so each rewrite flips them; two rewrites restore the bytes exactly.
    expect(twice.equals(once)).toBe(false);
    expect(rewrite(twice).equals(once)).toBe(true);
  });

  it('keeps every float literal mitmproxy wrote (Python repr), types and key order as mitmproxy writes them', () => {
    const written = Buffer.concat(flows.map((f) => encodeFlow(f))).toString('latin1');
    const floats = (s: string) => new Set(s.match(/\d+:[-0-9.e+]+\^/g));
    for (const lit of floats(original.toString('latin1'))) expect(written).toContain(lit);
    // Dict entries are written in reverse of mitmproxy's get_state() order, as mitmproxy does.
    const first = written.slice(written.indexOf(':') + 1, written.indexOf(':') + 40);
    expect(first).toMatch(/^9:websocket;/);
  });

  it('writes integral timestamps as floats (946681200.0) and flow fields with their schema types', () => {
    const f = tflow({ resp: true });
    f.timestampCreated = 946681200;
    f.request.timestampStart = 946681200;
    f.request.port = 8080;
    const out = encodeFlow(f).toString('latin1');
    expect(out).toContain('17:timestamp_created;11:946681200.0^');
    expect(out).toContain('15:timestamp_start;11:946681200.0^');
    expect(out).toContain('4:port;4:8080#');
    expect(out).toContain('7:version;2:21#');
  });

  it('appends with { append: true } and writes to streams and file descriptors', async () => {
    const path = join(tmp(), 'append.mitm');
    const a = new FlowWriter(path);
    a.add(flows[0]!);
    await a.close();
    const b = new FlowWriter(path, { append: true });
    b.add(flows[1]!);
    await b.close();
    expect([...new FlowReader(path)].map((f) => f.id)).toEqual([flows[0]!.id, flows[1]!.id]);

    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const s = new FlowWriter(stream);
    flows.slice(0, 3).forEach((f) => s.add(f.getState()));
    await s.close();
    expect([...new FlowReader(Buffer.concat(chunks))].map((f) => f.id)).toEqual(flows.slice(0, 3).map((f) => f.id));
  });

  it('refuses states of another format version', () => {
    expect(() => encodeFlow({ ...flows[0]!.getState(), version: 17 })).toThrow(/takes format 21 states only/);
  });

  it('writes the backup of a modified flow as a nested format 21 state', () => {
    const f = flowFromState(flows[0]!.getState());
    f.backup();
    f.comment = 'changed';
    const state = tnetstring.decode(encodeFlowState(f.getState())) as Record<string, unknown>;
    expect(checkFlowState(state)).toEqual([]);
    expect((state.backup as { comment: string }).comment).toBe('');
    expect([...new FlowReader(encodeFlow(f))][0]!.comment).toBe('changed');
  });
});

describe('FilteredFlowWriter', () => {
  it('writes only matching flows (filter object or expression), all with null', async () => {
    const path = join(tmp(), 'filtered.mitm');
    const w = new FilteredFlowWriter(path, '~c 200 & ~marked');
    flows.forEach((f) => w.add(f));
    await w.close();
    const flt = parseFilter('~c 200 & ~marked');
    const want = flows.filter((f) => flt.match(f)).map((f) => f.id);
    expect(want.length).toBe(2);
    expect([...new FlowReader(path)].map((f) => f.id)).toEqual(want);
    expect(w.count).toBe(2);

    const all = new FilteredFlowWriter(join(tmp(), 'all.mitm'), null);
    flows.forEach((f) => all.add(f));
    await all.close();
    expect(all.count).toBe(15);

    const states = new FilteredFlowWriter(join(tmp(), 's.mitm'), parseFilter('~tcp'));
    flows.forEach((f) => states.add(f.getState()));
    expect(states.count).toBe(1);
    await states.close();
  });
});
