// Every child process the harness starts goes through here, so that each one is stopped on a
// normal end, on a thrown error, on Ctrl-C and on `process.exit`, by its own pid.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const live = new Set();
const TAIL = 8192;

/**
 * A spawned child with the last bytes of its stdout and stderr kept for error messages.
 * `exited` resolves with `{ code, signal }` when the process is gone.
 */
export class Child {
  constructor(label, cmd, args, opts = {}) {
    this.label = label;
    this.cmd = cmd;
    this.args = args;
    this.out = '';
    this.err = '';
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.pid = this.proc.pid;
    this.exitInfo = null;
    this.spawnError = null;
    live.add(this);
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (s) => {
      this.out = (this.out + s).slice(-TAIL);
      for (const fn of this.outListeners) fn(s);
    });
    this.proc.stderr.on('data', (s) => {
      this.err = (this.err + s).slice(-TAIL);
      for (const fn of this.outListeners) fn(s);
    });
    this.outListeners = [];
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (e) => {
        this.spawnError = e;
        this.exitInfo = { code: null, signal: null, error: e };
        live.delete(this);
        resolve(this.exitInfo);
      });
      this.proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
  }

  get alive() {
    return this.exitInfo === null;
  }

  /** Call `fn` with every chunk of output (stdout and stderr) from now on. */
  onOutput(fn) {
    this.outListeners.push(fn);
  }

  /** The command line and the tail of the output, for an error message. */
  describe() {
    const tail = (this.err.trim() || this.out.trim()).split('\n').slice(-15).join('\n    ');
    const how = this.exitInfo
      ? `exited (${this.exitInfo.error ? this.exitInfo.error.message : `code ${this.exitInfo.code}, signal ${this.exitInfo.signal}`})`
      : 'running';
    return `${this.label} [pid ${this.pid}] ${how}: ${this.cmd} ${this.args.join(' ')}${tail ? `\n    ${tail}` : ''}`;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  async stop(graceMs = 5000) {
    if (!this.alive) return this.exitInfo;
    try {
      this.proc.kill('SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        this.proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}

/** Run a child to completion; resolves `{ code, signal, out, err }` (never rejects on exit code). */
export async function runToEnd(label, cmd, args, { timeoutMs = 120_000, ...opts } = {}) {
  const c = new Child(label, cmd, args, opts);
  let out = '';
  let err = '';
  c.proc.stdout.on('data', (s) => (out += s));
  c.proc.stderr.on('data', (s) => (err += s));
  const timer = setTimeout(() => {
    err += `\n[bench] ${label} timed out after ${timeoutMs} ms; killed.`;
    c.stop(1000);
  }, timeoutMs);
  const info = await c.exited;
  clearTimeout(timer);
  // The pipes may still hold buffered output after 'exit'.
  if (c.proc.stdout.readable) await once(c.proc.stdout, 'close').catch(() => undefined);
  return { ...info, out, err, child: c };
}

/** Stop every child still running (in parallel). */
export async function stopAll() {
  await Promise.all([...live].map((c) => c.stop(2000)));
}

let installed = false;

/** Make sure no child outlives the harness, however it ends. */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n[bench] ${sig}: stopping ${live.size} child process(es)...\n`);
      stopAll().finally(() => process.exit(130));
    });
  }
}
