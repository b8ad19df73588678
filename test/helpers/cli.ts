// The mitmts command line as a child process, for tests that need the real CLI (flags, exit codes).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** A fresh confdir holding the fixture CA (so that no first-start notice is printed). */
export function confdirWithCa(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-confdir-'));
  cpSync(join(ROOT, 'test/fixtures/mitmproxy-ca'), dir, { recursive: true });
  return dir;
}

export interface RunningMitmts {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly output: () => string;
  /** Resolves with the exit code once the process has ended (by itself or after `stop`). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
}

/** Start `mitmts ARGS -p 0 --listen-host 127.0.0.1`; resolves once it listens. */
export function startMitmts(args: readonly string[], confdir = confdirWithCa()): Promise<RunningMitmts> {
  const child = spawn(
    process.execPath,
    ['bin/mitmts.js', '--set', `confdir=${confdir}`, '-p', '0', '--listen-host', '127.0.0.1', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d;
      const m = /proxy listening at 127\.0\.0\.1:(\d+)\./.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.on('data', (more: Buffer) => (out += more));
      resolve({
        child,
        url: `http://127.0.0.1:${m[1]}`,
        output: () => out,
        exited,
        stop: () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d));
    void exited.then((code) => reject(new Error(`mitmts exited (${code}) before listening:\n${out}`)));
  });
}

/** What a mitmts run that ended by itself left. */
export interface FinishedMitmts {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Run `mitmts ARGS` (no listen address: for `-n` runs that end by themselves, e.g. `-n -C`,
 * `-n -r`) and wait for its exit; it is killed after `timeoutMs`.
 */
export function runMitmts(
  args: readonly string[],
  confdir = confdirWithCa(),
  timeoutMs = 60_000,
): Promise<FinishedMitmts> {
  const child = spawn(process.execPath, ['bin/mitmts.js', '--set', `confdir=${confdir}`, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}
