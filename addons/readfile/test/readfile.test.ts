import { spawn } from 'node:child_process';
import { cpSync, createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  addon,
  createProxy,
  FlowReader,
  FlowWriter,
  flowsToHar,
  serializeHar,
  type Flow,
  type HookName,
  type HTTPFlow,
} from '@mitmts/sdk';
import { tflow, ttcpflow, twebsocketflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { ReadFile } from '@mitmts/addon-readfile';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/mitmproxy-8.1.1/flows.mitm');
const MITMDUMP_OUTPUT = readFileSync(join(import.meta.dirname, 'fixtures/mitmdump-8.1.1-r-flows.txt'), 'utf8');

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mitmts-rf-'));
/** A confdir whose CA exists already (a first start would print where it created one). */
const confdirWithCa = (): string => {
  const dir = tmp();
  cpSync(join(ROOT, 'test/fixtures/mitmproxy-ca'), dir, { recursive: true });
  return dir;
};

/** Records every flow hook it sees (and the update hooks after them). */
@addon({ name: 'recorder' })
class Recorder {
  readonly seen: string[] = [];
  constructor() {
    const hooks: HookName[] = [
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
      'update',
    ];
    for (const h of hooks)
      (this as Record<string, unknown>)[h] = (f: Flow | Flow[]) =>
        this.seen.push(`${h}:${Array.isArray(f) ? f[0]!.id.slice(0, 4) : f.id.slice(0, 4)}`);
  }
}

function writeFlows(path: string, flows: Flow[]): void {
  const w = new FlowWriter(path);
  for (const f of flows) w.add(f);
  void w.close();
}

async function untilRead(tctx: TestContext): Promise<void> {
  await tctx.addon<ReadFile>('readfile').idle();
  expect(await tctx.call('readfile.reading')).toBe(false);
}

describe('readfile', () => {
  it('replays each flow into the addon chain with its hook sequence, each hook followed by update', async () => {
    const path = join(tmp(), 'in.mitm');
    const http = tflow({ resp: true });
    const tcp = ttcpflow();
    writeFlows(path, [http, tcp]);
    const tctx = await withAddons([Recorder, ReadFile], { rfile: path });
    await untilRead(tctx);
    const h = http.id.slice(0, 4);
    const t = tcp.id.slice(0, 4);
    expect(tctx.addon<Recorder>('recorder').seen).toEqual([
      ...['requestheaders', 'request', 'responseheaders', 'response'].flatMap((x) => [`${x}:${h}`, `update:${h}`]),
      ...['tcp_start', 'tcp_message', 'tcp_message', 'tcp_end'].flatMap((x) => [`${x}:${t}`, `update:${t}`]),
    ]);
    // Loaded flows are not live and can be found by flow specs.
    const loaded = tctx.kernel.flows.all();
    expect(loaded.map((f) => f.id)).toEqual([http.id, tcp.id]);
    expect(loaded.every((f) => !f.live)).toBe(true);
    await tctx.done();
  });

  it('reports reading while it reads, and no longer after', async () => {
    const path = join(tmp(), 'in.mitm');
    writeFlows(path, [tflow({ resp: true })]);
    const tctx = await withAddons([ReadFile], { rfile: path });
    expect(await tctx.call('readfile.reading')).toBe(true);
    await untilRead(tctx);
    expect(await tctx.call('readfile.reading')).toBe(false);
  });

  it('does nothing without rfile', async () => {
    const tctx = await withAddons([Recorder, ReadFile]);
    expect(await tctx.call('readfile.reading')).toBe(false);
    expect(tctx.addon<Recorder>('recorder').seen).toEqual([]);
  });

  it('loads only flows matching readfile_filter', async () => {
    const path = join(tmp(), 'in.mitm');
    const a = tflow({ resp: true });
    const b = tflow({ resp: true });
    b.response!.statusCode = 404;
    writeFlows(path, [a, b, twebsocketflow()]);
    const tctx = await withAddons([ReadFile], { rfile: path, readfile_filter: '~c 404' });
    await untilRead(tctx);
    expect(tctx.kernel.flows.all().map((f) => f.id)).toEqual([b.id]);
    expect(() => tctx.configure({ readfile_filter: '~bad' })).toThrow(/^Invalid readfile_filter "~bad": /);
  });

  it('logs an error for a file that is missing or a directory', async () => {
    const missing = join(tmp(), 'nope.mitm');
    const tctx = await withAddons([ReadFile], { rfile: missing });
    expect(tctx.messages('error')).toEqual([`Cannot load flows: ENOENT: no such file or directory, stat '${missing}'`]);
    expect(await tctx.call('readfile.reading')).toBe(false);
    const dir = tmp();
    const tctx2 = await withAddons([ReadFile], { rfile: dir });
    expect(tctx2.messages('error')).toEqual([`Cannot load flows: ${dir} is a directory, not a flow file`]);
  });

  it('keeps the flows before the damage of a corrupted file', async () => {
    const path = join(tmp(), 'bad.mitm');
    writeFlows(path, [tflow({ resp: true }), tflow({ resp: true })]);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('123:garbage')]));
    const tctx = await withAddons([ReadFile], { rfile: path });
    await untilRead(tctx);
    expect(tctx.kernel.flows.size).toBe(2);
    expect(tctx.messages('warn')).toEqual(['Flow file corrupted - loaded 2 flows.']);
    expect(tctx.messages('error')[0]).toMatch(new RegExp(`^Failed to read ${path}: `));

    const junk = join(tmp(), 'junk.mitm');
    writeFileSync(junk, 'this is not a flow file');
    const t2 = await withAddons([ReadFile], { rfile: junk });
    await untilRead(t2);
    expect(t2.messages('error')[0]).toBe('Flow file corrupted.');
  });

  it('reads HAR files', async () => {
    const path = join(tmp(), 'in.har');
    const f = tflow({ resp: true });
    writeFileSync(path, serializeHar(flowsToHar([f])));
    const tctx = await withAddons([ReadFile], { rfile: path });
    await untilRead(tctx);
    const [loaded] = tctx.kernel.flows.all() as HTTPFlow[];
    expect(loaded!.request.url).toBe(f.request.url);
    expect(loaded!.response!.statusCode).toBe(200);
  });

  it('reads a stream (what -r - does with stdin)', async () => {
    const path = join(tmp(), 'in.mitm');
    writeFlows(path, [tflow({ resp: true }), tflow({ err: true })]);
    const tctx = await withAddons([ReadFile]);
    const stream = new PassThrough();
    createReadStream(path).pipe(stream);
    expect(await tctx.addon<ReadFile>('readfile').loadFlows(stream, '<stdin>')).toBe(2);
  });

  it('points HTTP flows at the reverse proxy target in reverse mode', async () => {
    const path = join(tmp(), 'in.mitm');
    writeFlows(path, [tflow({ resp: true })]);
    const tctx = await withAddons([ReadFile], { rfile: path, mode: ['reverse:https://example.org:8443'] });
    await untilRead(tctx);
    const [f] = tctx.kernel.flows.all() as HTTPFlow[];
    expect(f!.request.url).toBe('https://example.org:8443/path');
  });

  it('loads flows into a running proxy', async () => {
    const path = join(tmp(), 'in.mitm');
    writeFlows(path, [tflow({ resp: true })]);
    const proxy = await createProxy({ addons: [ReadFile], options: { rfile: path } });
    try {
      const f = await proxy.flows.waitFor(() => true, 2000);
      expect(f.live).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Run the CLI until it exits. With `stopWhen`, it is expected to keep running: once its stdout
 * satisfies `stopWhen` it gets 500 ms more, then SIGTERM; `exitedEarly` says whether it left first.
 */
function mitmts(
  args: string[],
  input?: string,
  stopWhen?: (stdout: string) => boolean,
): Promise<{ code: number | null; stdout: string; stderr: string; exitedEarly: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/mitmts.js', '--set', `confdir=${confdirWithCa()}`, ...args], {
      cwd: ROOT,
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, COLUMNS: '80' },
    });
    if (input) createReadStream(input).pipe(child.stdin!);
    let stdout = '';
    let stderr = '';
    let signalled = false;
    let stopping = false;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      if (stopWhen && !stopping && stopWhen(stdout)) {
        stopping = true;
        setTimeout(() => ((signalled = true), child.kill('SIGTERM')), 500);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitedEarly: !signalled });
    });
  });
}

describe('mitmts -r on the command line', () => {
  it('-n -r prints the flows as mitmdump does and exits by itself', async () => {
    const { code, stdout, stderr } = await mitmts(['-n', '-r', FIXTURE]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(MITMDUMP_OUTPUT);
  });

  it('reads stdin with -r -', async () => {
    const { code, stdout } = await mitmts(['-n', '-r', '-'], FIXTURE);
    expect(code).toBe(0);
    expect(stdout).toBe(MITMDUMP_OUTPUT);
  });

  it('applies the positional filter to reading (and printing)', async () => {
    const { code, stdout } = await mitmts(['-n', '-r', FIXTURE, '~u /gzip']);
    expect(code).toBe(0);
    expect(stdout).toBe('127.0.0.1:53758: GET http://127.0.0.1:33889/gzip\n              << 200 OK 78b\n');
  });

  it('copies a file through the addon chain with -w', async () => {
    const out = join(tmp(), 'copy.mitm');
    const { code } = await mitmts(['-n', '-q', '-r', FIXTURE, '-w', out]);
    expect(code).toBe(0);
    const original = [...new FlowReader(FIXTURE)].map((f) => f.id);
    expect([...new FlowReader(out)].map((f) => f.id)).toEqual(original);
  });

  it('keeps running with keepserving', async () => {
    const { code, stdout, exitedEarly } = await mitmts(
      ['-n', '-r', FIXTURE, '--set', 'keepserving'],
      undefined,
      (out) => out === MITMDUMP_OUTPUT,
    );
    expect(stdout).toBe(MITMDUMP_OUTPUT);
    expect(exitedEarly).toBe(false);
    expect(code).toBe(0);
  });

  it('exits with status 1 when the file cannot be read', async () => {
    const missing = join(tmp(), 'missing.mitm');
    const { code, stdout, stderr } = await mitmts(['-n', '-r', missing]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `[error] Cannot load flows: ENOENT: no such file or directory, stat '${missing}'\nError logged during startup, exiting...\n`,
    );
  });
});
