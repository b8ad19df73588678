// `mitmts flows convert --to 17`, checked by the reader it is for: Debian's mitmproxy 8.1.1
// (installed by the test where it can be; elsewhere the suite says why it skipped).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FlowReader, FlowWriter } from '@mitmts/sdk';
import { tflow, tudpflow, twebsocketflow } from '@mitmts/sdk/testing';
import { ensureTools, MITMDUMP, PYTHON_MITMPROXY } from '../helpers/tools.js';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');
const FIXTURE = join(import.meta.dirname, '../fixtures/mitmproxy-8.1.1/flows.mitm');
const run = promisify(execFile);

const missing = ensureTools(MITMDUMP, PYTHON_MITMPROXY);
if (missing) console.warn(`format 17 read-back tests skipped: ${missing}`);

/** mitmproxy 8.1.1's own FlowReader on a file: what it loaded, flow by flow. */
const PY = `
import json, sys
from mitmproxy import io
out = []
with open(sys.argv[1], "rb") as fp:
    for f in io.FlowReader(fp).stream():
        d = {"type": f.type, "id": f.id, "metadata": f.metadata, "backup": f._backup is not None}
        if f.type == "http":
            d["url"] = f.request.url
            d["status"] = f.response.status_code if f.response else None
            d["ws"] = len(f.websocket.messages) if f.websocket else None
        out.append(d)
print(json.dumps(out))
`;

describe.skipIf(missing !== null)('format 17 for mitmproxy 8.x', () => {
  it('mitmdump 8.1.1 reads what `mitmts flows convert --to 17` writes', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-convert-'));
    const in21 = join(dir, 'capture.mitm');
    const out17 = join(dir, 'capture-17.mitm');
    // A format 21 file as mitmts writes it: real flows, a modified one, WebSocket, metadata, UDP.
    const flows = [...new FlowReader(FIXTURE)];
    const edited = tflow({ resp: true });
    edited.backup();
    edited.request.path = '/edited';
    edited.metadata['mitmts.run'] = 'node client.mjs';
    const ws = twebsocketflow();
    const w = new FlowWriter(in21);
    for (const f of [...flows, edited, ws, tudpflow()]) w.add(f);
    await w.close();

    const conv = await run(process.execPath, [BIN, 'flows', 'convert', in21, out17, '--to', '17']);
    expect(conv.stderr).toBe(
      `mitmts flows convert: wrote ${flows.length + 2} flows at format 17 to ${out17}; left out 1 UDP/DNS flows, which format 17 cannot hold\n`,
    );

    const dump = await run('mitmdump', ['-n', '-r', out17, '--set', `confdir=${dir}`], { timeout: 60_000 });
    for (const f of flows.filter((x) => x.type === 'http'))
      expect(dump.stdout).toContain((f as { request: { path: string } }).request.path.split('?')[0]);
    expect(dump.stdout).toContain('/edited');
    expect(dump.stderr).not.toMatch(/error|exception|traceback/i);

    const py = await run('/usr/bin/python3', ['-c', PY, out17]);
    const loaded = JSON.parse(py.stdout) as Array<Record<string, unknown>>;
    expect(loaded.map((l) => l.id)).toEqual([...flows, edited, ws].map((f) => f.id));
    expect(loaded[flows.length]).toMatchObject({
      url: 'http://address:22/edited',
      status: 200,
      backup: true,
      metadata: { 'mitmts.run': 'node client.mjs' },
    });
    expect(loaded[flows.length + 1]).toMatchObject({ type: 'http', ws: 3 });
  });
});

describe('mitmts flows convert', () => {
  it('refuses a format it cannot write, and a missing input, without touching the output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-convert-'));
    const out = join(dir, 'keep.mitm');
    writeFileSync(out, 'precious');
    const bad = await run(process.execPath, [BIN, 'flows', 'convert', FIXTURE, out, '--to', '19']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--to takes a flow format this version writes \(17 or 21\), got "19"/),
    });
    const gone = await run(process.execPath, [
      BIN,
      'flows',
      'convert',
      join(dir, 'nope.mitm'),
      out,
      '--to',
      '17',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(gone).toMatchObject({ code: 2, stderr: `mitmts flows convert: ${join(dir, 'nope.mitm')}: no such file\n` });
    expect((await import('node:fs')).readFileSync(out, 'utf8')).toBe('precious');
  });
});
