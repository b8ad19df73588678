// Lockstep event streams for the live-body tests: an origin stream the test writes event by
// event, clients whose output the test waits on, and a recorder addon that checks what the
// proxy's hooks saw. The origin sends event i+1 only once the client printed event i, so a
// proxy that held the response until it ended would never get the first event through.
import { spawn } from 'node:child_process';
import zlib from 'node:zlib';
import { expect } from 'vitest';
import type { HTTPFlow, SseEvent } from '@mitmts/sdk';

export const EVENTS = Array.from({ length: 4 }, (_, i) => `id: ${i}\ndata: {"n":${i},"text":"part ${i}"}\n\n`);

/** The origin's side of one event stream: the test writes each event when it wants. */
export interface OriginStream {
  write(text: string): void;
  end(): void;
}

/** Something an origin writes a response body to (an HTTP/1 response, an HTTP/2 stream). */
interface BodySink {
  write(chunk: string | Buffer): unknown;
  end(): unknown;
}

/** The origin stream over `sink`: gzip'd and flushed after each event when `gzip`, as a compressing server does. */
export function originStream(sink: BodySink, gzip: boolean): OriginStream {
  if (!gzip) return { write: (t) => sink.write(t), end: () => sink.end() };
  const z = zlib.createGzip();
  z.on('data', (c: Buffer) => sink.write(c));
  z.on('end', () => sink.end());
  return { write: (t) => (z.write(t), z.flush(zlib.constants.Z_SYNC_FLUSH)), end: () => z.end() };
}

/** What a client printed so far; waits for a text to appear (or the client to end without it). */
export class Output {
  private text = '';
  private waiters: Array<() => void> = [];
  private ended = false;
  add(chunk: string): void {
    this.text += chunk;
    for (const w of this.waiters.splice(0)) w();
  }
  close(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w();
  }
  async waitFor(needle: string): Promise<void> {
    while (!this.text.includes(needle)) {
      if (this.ended) throw new Error(`the client ended without printing ${needle}:\n${this.text}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  get all(): string {
    return this.text;
  }
}

export interface RunningClient {
  readonly output: Output;
  readonly done: Promise<void>;
}

/** A child process whose standard output is the client's output. */
export function child(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningClient {
  const output = new Output();
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stdout.on('data', (c: Buffer) => output.add(c.toString()));
  p.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<void>((resolve, reject) =>
    p.on('close', (code) => {
      output.close();
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code}: ${err}`));
    }),
  );
  return { output, done };
}

/** Reads a body stream into an Output. */
export function reading(body: AsyncIterable<Uint8Array>): RunningClient {
  const output = new Output();
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of body) output.add(decoder.decode(chunk, { stream: true }));
    output.close();
  })();
  return { output, done };
}

/**
 * The test's view of the proxy and the origins: {@link addon} records what the hooks saw,
 * origins hand their streams to {@link arrived}, {@link lockstep} runs one client.
 */
export class LiveRecorder {
  /** What the hooks saw, in order: `event <flow id> <id>:<data>`, `chunk <flow id> <bytes>`, `response <flow id>`. */
  readonly seen: string[] = [];
  private readonly responded = new Map<string, (f: HTTPFlow) => void>();
  private nextStream: ((s: OriginStream) => void) | null = null;

  readonly addon = {
    name: 'recorder',
    sse_event: (f: HTTPFlow, e: SseEvent) => void this.seen.push(`event ${f.id} ${e.id}:${e.data}`),
    response_chunk: (f: HTTPFlow, chunk: Buffer) => void this.seen.push(`chunk ${f.id} ${chunk.length}`),
    response: (f: HTTPFlow) => {
      this.seen.push(`response ${f.id}`);
      this.responded.get(f.request.path)?.(f);
    },
  };

  /** An origin got a request: the stream goes to the waiting test. */
  arrived(stream: OriginStream): void {
    this.nextStream?.(stream);
  }

  /** The next stream an origin gets. */
  streamArrives(): Promise<OriginStream> {
    return new Promise((resolve) => (this.nextStream = resolve));
  }

  /** Resolves with the flow once the response hook fired for a request path. */
  responseHook(path: string): Promise<HTTPFlow> {
    return new Promise((resolve) => this.responded.set(path, resolve));
  }

  /**
   * Run a client against `url` in lockstep: event i+1 is sent only once the client printed
   * event i. Then check the recorded flow and the hooks; resolves with the flow.
   */
  async lockstep(url: string, start: (url: string) => RunningClient | Promise<RunningClient>): Promise<HTTPFlow> {
    const path = new URL(url).pathname;
    const hooked = this.responseHook(path);
    const arrives = this.streamArrives();
    const client = await start(url);
    const stream = await arrives;
    for (let i = 0; i < EVENTS.length; i++) {
      stream.write(EVENTS[i]!);
      await client.output.waitFor(`"n":${i}`);
    }
    stream.end();
    await client.done;
    expect(client.output.all.replace(/\r/g, '')).toContain('"text":"part 3"');

    const flow = await hooked;
    expect(flow.response!.getText()).toBe(EVENTS.join(''));
    const mine = this.seen.filter((s) => s.includes(` ${flow.id}`));
    // Every chunk that went through, before the response hook.
    const chunks = mine.filter((s) => s.startsWith('chunk '));
    expect(chunks.length).toBeGreaterThanOrEqual(EVENTS.length);
    expect(chunks.reduce((n, s) => n + Number(s.split(' ')[2]), 0)).toBe(flow.response!.rawContent!.length);
    expect(mine.at(-1)).toBe(`response ${flow.id}`);
    const events = mine.filter((s) => s.startsWith('event '));
    if (flow.response!.headers.get('content-type') === 'text/event-stream') {
      expect(events).toEqual(EVENTS.map((_, i) => `event ${flow.id} ${i}:{"n":${i},"text":"part ${i}"}`));
    } else {
      expect(events).toEqual([]);
    }
    return flow;
  }
}
