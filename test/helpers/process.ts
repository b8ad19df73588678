import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's `mitmts` binary (the default distribution). */
export const MITMTS_BIN = join(import.meta.dirname, '../../bin/mitmts.js');

/** A fresh temporary directory (a confdir, a script's home). */
export function tempDir(prefix = 'mitmts-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A child process whose output is collected, with waits on what it prints and on its exit. */
export class Child {
  readonly proc: ChildProcess;
  out = '';
  err = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.proc = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const wake = (): void => {
      for (const w of this.waiters.splice(0)) w();
    };
    this.proc.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
      wake();
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.err += d.toString();
      wake();
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(wake);
  }

  /** Everything printed so far, stdout then stderr. */
  get all(): string {
    return this.out + this.err;
  }

  /** Where the output is now, for `waitFor` to look only at what comes after. */
  mark(): { out: number; err: number } {
    return { out: this.out.length, err: this.err.length };
  }

  /**
   * Resolves with the first match of `re` in stdout or stderr (after `since`, a `mark()`);
   * rejects if the process exits first.
   */
  async waitFor(re: RegExp, since = { out: 0, err: 0 }): Promise<RegExpMatchArray> {
    for (;;) {
      const m = this.out.slice(since.out).match(re) ?? this.err.slice(since.err).match(re);
      if (m) return m;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(
          `process exited (${this.proc.exitCode ?? this.proc.signalCode}) before printing ${re}:\n${this.all}`,
        );
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Kill (if still running) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    await this.exited;
  }
}

/** Start `bin/mitmts.js` with these arguments. */
export function mitmts(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Child {
  return new Child(process.execPath, [MITMTS_BIN, ...args], opts);
}

/** The port of the first "proxy listening at HOST:PORT" line. */
export async function listeningPort(child: Child): Promise<number> {
  const m = await child.waitFor(/proxy listening at \S+:(\d+)\./);
  return Number(m[1]);
}

/**
 * `GET http://127.0.0.1:1<path>` through the proxy at `port` (a closed port: the proxy answers
 * 502 itself), on a raw socket; resolves with the response's status line ('' if none came).
 */
export function proxyRoundTrip(port: number, path = '/'): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(`GET http://127.0.0.1:1${path} HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n`),
    );
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    s.on('close', () => resolve(data.split('\r\n')[0]!));
    s.on('error', () => undefined);
  });
}
