/** Writing format 17 (mitmproxy 7 and 8): the reverse of converters 17 -> 21. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tdnsflow, tflow, ttcpflow, tudpflow, twebsocketflow } from '../../src/flow/index.js';
import {
  downgradeTo17,
  FlowReader,
  FlowWriter,
  migrateFlowState,
  tnetstring,
  type TnetValue,
} from '../../src/io/index.js';
import { FIXTURE_DIR, FLOWS_MITM } from './fixtures.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mitmts-17-'));

/** The records of a flow file, decoded as they are (no migration). */
function records(bytes: Buffer): Array<Record<string, TnetValue>> {
  const out: Array<Record<string, TnetValue>> = [];
  for (let pos = 0; pos < bytes.length;) {
    const { value, end } = tnetstring.decodeAt(bytes, pos);
    out.push(value as Record<string, TnetValue>);
    pos = end;
  }
  return out;
}

/** Sorted keys of free-form metadata: mitmproxy flips their order on every read-write cycle. */
function sortMetadata(r: Record<string, TnetValue>): Record<string, TnetValue> {
  const m = r.metadata as Record<string, TnetValue>;
  return {
    ...r,
    metadata: JSON.parse(
      JSON.stringify(m, (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v,
      ),
    ),
  };
}

async function write17(
  flows: Iterable<Parameters<FlowWriter['add']>[0]>,
): Promise<{ bytes: Buffer; writer: FlowWriter }> {
  const path = join(tmp(), 'out.mitm');
  const writer = new FlowWriter(path, { format: 17 });
  for (const f of flows) writer.add(f);
  await writer.close();
  return { bytes: readFileSync(path), writer };
}

describe('format 17', () => {
  for (const name of ['flows.mitm', 'modified.mitm']) {
    it(`gives back the records mitmdump 8.1.1 wrote (${name}), read at 21 and written at 17`, async () => {
      const original = readFileSync(FIXTURE_DIR + name);
      const { bytes } = await write17(new FlowReader(original));
      const want = records(original);
      const got = records(bytes);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        // Key for key, in order (JSON.stringify keeps key order), metadata aside.
        expect(JSON.stringify(sortMetadata(got[i]!)), `record ${i}`).toBe(JSON.stringify(sortMetadata(want[i]!)));
      }
      // Records without free-form metadata are byte for byte the original.
      // Byte for byte too, wherever there is no metadata to flip.
      const raw = (b: Buffer): Buffer[] => {
        const out: Buffer[] = [];
        for (let pos = 0; pos < b.length; pos = tnetstring.decodeAt(b, pos).end)
          out.push(b.subarray(pos, tnetstring.decodeAt(b, pos).end));
        return out;
      };
      const [rawWant, rawGot] = [raw(original), raw(bytes)];
      const flat = want.map((_r, i) => i).filter((i) => Object.keys(want[i]!.metadata as object).length === 0);
      expect(flat.length).toBeGreaterThan(0);
      for (const i of flat) expect(rawGot[i]!.equals(rawWant[i]!), `record ${i}`).toBe(true);
    });
  }

  it('reads back to the same flows (17 -> 21 -> 17 -> 21)', async () => {
    const flows = [...new FlowReader(FLOWS_MITM)];
    const ws = twebsocketflow();
    const tcp = ttcpflow();
    const { bytes } = await write17([...flows, ws, tcp]);
    const again = [...new FlowReader(bytes)];
    expect(again.slice(0, flows.length).map((f) => f.getState())).toEqual(flows.map((f) => f.getState()));
    const [ws2, tcp2] = again.slice(flows.length) as [typeof ws, typeof tcp];
    expect(ws2.websocket!.getState()).toEqual(ws.websocket!.getState());
    expect(ws2.request.getState()).toEqual(ws.request.getState());
    expect(tcp2.getState().messages).toEqual(tcp.getState().messages);
  });

  it('translates what formats 18 to 21 added, and drops what format 17 has no place for', () => {
    const f = tflow({ resp: true });
    f.clientConn.tlsVersion = 'QUICv1';
    f.clientConn.proxyMode = 'reverse:https://example.com';
    f.clientConn.timestampTlsSetup = 1.5;
    f.serverConn.via = ['http', ['proxy', 3128]];
    const d = downgradeTo17(f.getState())!;
    expect(d.version).toBe(17);
    expect(d.client_conn).toMatchObject({
      address: f.clientConn.peername,
      cipher_name: f.clientConn.cipher,
      tls_version: 'QUIC',
      tls_established: true,
      tls_extensions: [],
    });
    expect(d.client_conn).not.toHaveProperty('proxy_mode');
    expect(d.client_conn).not.toHaveProperty('transport_protocol');
    expect(d.server_conn).toMatchObject({
      ip_address: f.serverConn.peername,
      source_address: f.serverConn.sockname,
      via: null,
      via2: ['http', ['proxy', 3128]],
    });
    expect(d.server_conn.tls_established).toBe(f.serverConn.timestampTlsSetup !== null);
    expect(d).not.toHaveProperty('backup');
    // And the converters bring it back (proxy_mode becomes mitmproxy 8's only mode, regular).
    const back = migrateFlowState(structuredClone(d));
    expect(back.client_conn).toMatchObject({
      peername: f.clientConn.peername,
      tls_version: 'QUICv1',
      proxy_mode: 'regular',
    });
    expect(back.server_conn.via).toEqual(['http', ['proxy', 3128]]);
  });

  it('writes the backup of a modified flow, itself at format 17', () => {
    const f = tflow({ resp: true });
    f.backup();
    f.request.path = '/changed';
    const d = downgradeTo17(f.getState())!;
    expect(d.backup).toMatchObject({ version: 17, request: { path: Buffer.from('/path') } });
    expect(d.backup.client_conn).toHaveProperty('address');
  });

  it('leaves out UDP and DNS flows, which format 17 cannot hold, and counts them', async () => {
    const { bytes, writer } = await write17([tflow(), tudpflow(), tdnsflow(), ttcpflow()]);
    expect(writer.count).toBe(2);
    expect(writer.skipped).toBe(2);
    expect(records(bytes).map((r) => [r.type, r.version])).toEqual([
      ['http', 17],
      ['tcp', 17],
    ]);
  });

  it('streams to a writable and refuses formats it cannot write', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = new FlowWriter(out, { format: 17 });
    w.add(tflow());
    await w.close();
    expect(records(Buffer.concat(chunks))[0]!.version).toBe(17);
    expect(() => new FlowWriter(out, { format: 18 as 17 })).toThrow(
      /cannot write flow format 18: FlowWriter writes format 17 or 21/,
    );
  });
});
