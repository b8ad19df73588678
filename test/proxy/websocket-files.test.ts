// A WebSocket connection captured by the real command line (`mitmts -w flows.mitm --set
// hardump=flows.har`), read back: the .mitm file carries the messages (and the filter operators
// look into them), the HAR file has them as `_webSocketMessages`. (mitmproxy 8.1.1 cannot read
// format 21 files; our reading of its WebSocket flows is tested in core/test/io.)
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilter, readFlowsFromPaths, type HarEntry, type HTTPFlow } from '@mitmts/sdk';
import { startMitmts, type RunningMitmts } from '../helpers/cli.js';
import { wsClient, wsServer, type WsServer } from '../helpers/websocket.js';

/** What the client sends (text, binary, non-ASCII, one message in several frames' worth). */
const SENT: Array<string | Buffer> = [
  'hello websocket',
  'second text frame',
  Buffer.from([0xfe, 0xff, 0, 1, 0xff, 0xfe]),
  'Ünïcode ünïcödé',
  'x'.repeat(5000),
];
/** The server's answer to a message. */
const answer = (m: Buffer, binary: boolean): Buffer =>
  binary ? Buffer.from(m).reverse() : Buffer.from(`echo: ${m.toString()}`);

describe('WebSocket flows in files written by the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-wsfiles-'));
  const mitm = join(dir, 'flows.mitm');
  const har = join(dir, 'flows.har');
  let up: WsServer;
  let mitmts: RunningMitmts;
  let flows: HTTPFlow[];

  beforeAll(async () => {
    up = await wsServer({ deflate: true });
    up.wss.on('connection', (ws) => ws.on('message', (d: Buffer, binary) => ws.send(answer(d, binary), { binary })));
    mitmts = await startMitmts(['-w', mitm, '--set', `hardump=${har}`]);
    const port = Number(new URL(mitmts.url).port);
    const ws = wsClient({ port, ca: '' }, `${up.url}/capture`, { deflate: true });
    await once(ws, 'open');
    for (const m of SENT) {
      ws.send(m);
      await once(ws, 'message');
    }
    ws.close(4000, 'captured');
    await once(ws, 'close');
    // A second connection is still open when the proxy stops.
    const open = wsClient({ port, ca: '' }, `${up.url}/open-at-exit`);
    await once(open, 'open');
    open.send('still here');
    await once(open, 'message');
    const openClosed = once(open, 'close');
    // websocket_end wrote the flows; SIGTERM runs `done` (the HAR dump) and exits.
    expect(await mitmts.stop(), mitmts.output()).toBe(0);
    expect(((await openClosed) as [number])[0]).toBe(1001);
    flows = (await readFlowsFromPaths([mitm])) as HTTPFlow[];
  }, 60_000);

  afterAll(async () => {
    await mitmts?.stop();
    await up?.close();
  });

  it('.mitm: the flow carries every message decoded, in order, and the close', () => {
    expect(flows.map((f) => f.request.path)).toEqual(['/capture', '/open-at-exit']);
    const f = flows[0]!;
    expect(f.request.path).toBe('/capture');
    expect(f.response!.statusCode).toBe(101);
    const msgs = f.websocket!.messages;
    expect(msgs.map((m) => [m.fromClient, m.type, m.content.toString('hex')])).toEqual(
      SENT.flatMap((s) => {
        const b = Buffer.from(s);
        const binary = typeof s !== 'string';
        return [
          [true, binary ? 2 : 1, b.toString('hex')],
          [false, binary ? 2 : 1, answer(b, binary).toString('hex')],
        ];
      }),
    );
    expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 4000, closeReason: 'captured' });
    expect(f.websocket!.timestampEnd).toBeGreaterThan(0);
    expect(f.live).toBe(false);
  });

  it('.mitm: a connection still open at exit was closed with 1001 and saved', () => {
    const f = flows[1]!;
    expect(f.websocket).toMatchObject({ closeCode: 1001, closeReason: 'proxy shutting down' });
    expect(f.websocket!.messages.map((m) => m.content.toString())).toEqual(['still here', 'echo: still here']);
  });

  it('HAR: _webSocketMessages as Chrome writes them (text as text, binary as base64)', () => {
    const doc = JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } };
    const entries = doc.log.entries.filter((e) => e.request.url.endsWith('/capture'));
    expect(entries).toHaveLength(1);
    const e = entries[0]!;
    expect(e._resourceType).toBe('websocket');
    expect(e.response.status).toBe(101);
    expect(e._webSocketMessages!.map((m) => [m.type, m.opcode, m.data])).toEqual(
      SENT.flatMap((s) => {
        const b = Buffer.from(s);
        const binary = typeof s !== 'string';
        const enc = (x: Buffer) => (binary ? x.toString('base64') : x.toString('utf8'));
        return [
          ['send', binary ? 2 : 1, enc(b)],
          ['receive', binary ? 2 : 1, enc(answer(b, binary))],
        ];
      }),
    );
    expect(e._webSocketMessages!.every((m, i, all) => m.time >= (all[i - 1]?.time ?? 0))).toBe(true);
  });

  it('filters look into the messages of the flow read back (~websocket, ~b, ~bq, ~bs, as mitmproxy)', () => {
    const f = flows[0]!;
    const answers: Record<string, boolean> = {
      '~websocket': true,
      '~http & ~s & ~c 101': true,
      '~tcp': false,
      "~b 'hello websocket'": true,
      "~bq 'hello websocket'": true,
      "~bs 'echo: hello websocket'": true,
      "~bq 'echo: hello'": false,
      '~b Ünïcode': true,
      '~bq \\xfe\\xff\\x00\\x01': true,
      '~bs \\x01\\x00\\xff': true,
      '~bq \\x01\\x00\\xff': false,
      '~b never-sent': false,
    };
    expect(Object.fromEntries(Object.keys(answers).map((expr) => [expr, parseFilter(expr)(f)]))).toEqual(answers);
  });
});
