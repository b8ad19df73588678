/**
 * The hook watchdog: reports an addon hook that blocks the event loop (a synchronous loop that
 * does not return), and lets SIGTERM/SIGINT end the process while the main thread is stuck.
 *
 * A blocked main thread runs no timers and no signal handlers, so a worker thread watches it:
 * - the dispatcher writes the id of the handler it is about to call into shared memory
 *   (`HOOK_SLOT`, one store before and one after each call: nothing else on the hot path);
 * - a main-thread timer bumps a heartbeat in the same memory;
 * - the worker checks the heartbeat; when it has not moved for the limit (`hook_watchdog`
 *   seconds), it writes the report to stderr itself (the main thread's log cannot run) and,
 *   once the main thread runs again, the kernel's log gets how long the block lasted;
 * - with `guardSignals()` (the command line), the worker also receives SIGTERM and SIGINT. Node
 *   delivers signals to the main thread only, so it registers libuv signal handles of its own
 *   through the internal `signal_wrap` binding (`process.binding`, deprecated but present in
 *   Node 20 and 22; without it, signals are not guarded and the report says so). If the main
 *   thread does not run within the limit after a signal, the worker asks it, through the
 *   inspector (`Runtime.evaluate` runs as a V8 interrupt even inside a busy loop), to drop its
 *   signal listeners, and raises the signal again: the process ends as an unhandled SIGTERM
 *   ends it (SIGKILL if that fails within a second).
 *
 * One worker per process (~10 MiB RSS, ~30 ms to start), shared by every kernel that enables it,
 * and then kept (idle while none does). It starts lazily: once code outside the distribution's
 * default build joins a kernel ({@link armWatchdog}: a `-s` script, an embedder's addon), or once
 * the heartbeat finds that the event loop was blocked for a second or more (a default-build hook
 * running a user's regex on a huge body; that first block is reported afterwards, with the hook
 * that ran last, and the worker watches from then on). A `mitmts` with only its own addons never
 * pays for the worker.
 */
import { Worker } from 'node:worker_threads';

/** Slots of the shared memory. */
const RUNNING = 0; // id (> 0) of the handler running now; -id of the last one after it returned
const BEAT = 1; // bumped by the main thread's heartbeat timer
const RELEASED = 2; // set by the main thread once it dropped its signal listeners
const SLOTS = 4;

const memory = new SharedArrayBuffer(SLOTS * 4);

/**
 * Written by `HookTable` around every handler call: `HOOK_SLOT[0] = id` before, the previous
 * value (or `-id`) after. Plain stores into shared memory: the worker reads them with `Atomics`.
 */
export const HOOK_SLOT = new Int32Array(memory);

const HEARTBEAT_MS = 200;
const RELEASE_KEY = Symbol.for('mitmts.watchdog.release');

/** What the log of a kernel that enabled the watchdog gets. */
export interface WatchdogLog {
  warn(msg: string): void;
  debug(msg: string): void;
}

const labels: string[] = [''];
const ids = new Map<string, number>();
const retainers = new Map<WatchdogLog, number>();
let worker: Worker | null = null;
let heartbeat: NodeJS.Timeout | null = null;
let signalsGuarded = false;
/** Code outside the default build was loaded (or a block was seen): the worker may start. */
let armed = false;
/** The current limit (0: nobody watches). */
let limit = 0;
/** When the heartbeat last ran (it notices blocks while the worker does not run). */
let lastBeat = 0;
/** A late heartbeat by this much starts the worker. */
const LAG_ARM_MS = 1000;

/** The id the dispatcher writes for this addon's handler of this hook (stable per pair). */
export function handlerId(addon: string, hook: string): number {
  const label = `addon ${addon}: hook ${hook}`;
  let id = ids.get(label);
  if (id === undefined) {
    id = labels.push(label) - 1;
    ids.set(label, id);
    worker?.postMessage({ label: [id, label] });
  }
  return id;
}

/**
 * Watch for blocks of `seconds` or more on behalf of one kernel's log (0 stops watching for it).
 * The worker runs while any kernel watches; the smallest limit applies.
 */
export function watchBlocks(log: WatchdogLog, seconds: number): void {
  if (seconds > 0) retainers.set(log, seconds * 1000);
  else retainers.delete(log);
  // With nobody watching, the worker idles rather than ends: kernels that start and stop often
  // (tests, embedders) do not pay its start-up each time.
  const limitMs = retainers.size === 0 ? 0 : Math.min(...retainers.values());
  limit = limitMs;
  if (worker) worker.postMessage({ limitMs });
  else if (limitMs > 0 && armed) startWorker(limitMs);
  if (heartbeat && limitMs === 0) clearInterval(heartbeat);
  if (limitMs === 0) heartbeat = null;
  else if (!heartbeat) {
    lastBeat = Date.now();
    heartbeat = setInterval(beat, HEARTBEAT_MS);
    heartbeat.unref();
  }
}

/**
 * Start the worker now (if a kernel watches; else once one does): code outside the default
 * build is loaded, whose hooks may block.
 */
export function armWatchdog(): void {
  armed = true;
  if (worker === null && limit > 0) startWorker(limit);
}

/** The main thread's heartbeat; without the worker, it also notices that a block happened. */
function beat(): void {
  HOOK_SLOT[BEAT]++;
  const now = Date.now();
  const late = now - lastBeat - HEARTBEAT_MS;
  lastBeat = now;
  if (worker !== null || late < LAG_ARM_MS) return;
  if (late >= limit) {
    const label = labels[Math.abs(HOOK_SLOT[RUNNING]!)];
    const last = label ? ` (the last addon hook called: ${label})` : '';
    for (const log of retainers.keys())
      log.warn(
        `The event loop was blocked for ${(late / 1000).toFixed(1)} s${last} (see hook_watchdog); the watchdog thread watches from now on.`,
      );
  }
  armWatchdog();
}

/**
 * Let SIGTERM and SIGINT end the process even while the main thread is blocked (for the command
 * line, which owns the process's signals). Takes effect while the watchdog runs.
 */
export function guardSignals(): void {
  signalsGuarded = true;
  (globalThis as Record<symbol, unknown>)[RELEASE_KEY] = releaseSignals;
  worker?.postMessage({ signals: true });
}

/** Run by the worker (via the inspector) on a stuck main thread: signals get their default action. */
function releaseSignals(): void {
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  Atomics.store(HOOK_SLOT, RELEASED, 1);
}

function startWorker(limitMs: number): void {
  // `__name`: bundlers that keep function names (esbuild keepNames) wrap inner functions in it.
  const source = `var __name = (f) => f;\n(${watchdogMain.toString()})(require);`;
  worker = new Worker(source, {
    eval: true,
    workerData: { memory, limitMs, labels: [...ids].map(([l, i]) => [i, l]), signals: signalsGuarded },
  });
  worker.on('message', (m: { blocked?: number; label?: string; guarded?: boolean }) => {
    if (m.guarded) for (const log of retainers.keys()) log.debug('Hook watchdog: SIGTERM and SIGINT are guarded.');
    if (m.blocked === undefined) return;
    const msg = `${m.label ?? 'Code outside the addon hooks'} blocked the event loop for ${(m.blocked / 1000).toFixed(1)} s (see hook_watchdog).`;
    for (const log of retainers.keys()) log.warn(msg);
  });
  worker.on('error', (err) => {
    for (const log of retainers.keys()) log.warn(`The hook watchdog stopped: ${err.message}`);
  });
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();
}

/** Shape of `workerData`. */
interface WatchdogData {
  memory: SharedArrayBuffer;
  limitMs: number;
  labels: Array<[number, string]>;
  signals: boolean;
}

/**
 * The worker's program. Runs from its source text (`toString()`) so that it works in bundles
 * too: it must use nothing from outside its own body but `require`.
 */
function watchdogMain(req: NodeJS.Require): void {
  const { parentPort, workerData } = req('node:worker_threads') as typeof import('node:worker_threads');
  const { writeSync } = req('node:fs') as typeof import('node:fs');
  const data = workerData as WatchdogData;
  const slots = new Int32Array(data.memory);
  const labels = new Map<number, string>(data.labels);
  let limitMs = data.limitMs;
  let beat = Atomics.load(slots, 1);
  let since = Date.now();
  let reported = false;
  let pending: string | null = null;
  let signalHandles: Array<{ close(): void }> = [];
  let ticker: NodeJS.Timeout | null = null;
  let exiting = false;
  /** The handler that was running when the block was reported. */
  let blocker: string | undefined;

  const label = (v: number): string | undefined => labels.get(Math.abs(v));
  const say = (line: string): void => {
    try {
      writeSync(2, `[error] ${line}\n`);
    } catch {
      // stderr closed: nothing to tell
    }
  };
  // limitMs 0: nobody watches (the worker idles until a kernel enables the watchdog again).
  const schedule = (): void => {
    if (ticker) clearInterval(ticker);
    ticker = null;
    beat = Atomics.load(slots, 1);
    since = Date.now();
    if (limitMs > 0) ticker = setInterval(tick, Math.max(10, Math.min(200, Math.floor(limitMs / 4))));
  };

  function describeBlock(stale: number): string {
    const v = Atomics.load(slots, 0);
    const s = (stale / 1000).toFixed(1);
    const signals = signalHandles.length > 0 ? ' SIGTERM and SIGINT still stop the process.' : '';
    if (v > 0)
      return `${label(v) ?? 'a hook'} has blocked the event loop for ${s} s: nothing else runs until it returns (a synchronous loop?).${signals}`;
    const last =
      v < 0 ? ` (the last hook called: ${label(v)}; code after an await in it runs outside the dispatcher)` : '';
    return `The event loop has been blocked for ${s} s outside the addon hooks' synchronous calls${last}.${signals}`;
  }

  function tick(): void {
    const now = Date.now();
    const b = Atomics.load(slots, 1);
    if (b !== beat) {
      if (reported) parentPort!.postMessage({ blocked: now - since, label: blocker });
      beat = b;
      since = now;
      reported = false;
      pending = null;
      return;
    }
    const stale = now - since;
    if (stale < limitMs) return;
    if (!reported) {
      reported = true;
      const v = Atomics.load(slots, 0);
      blocker = v > 0 ? label(v) : undefined;
      say(describeBlock(stale));
    }
    if (pending !== null) exit(pending);
  }

  function exit(signal: string): void {
    if (exiting) return;
    exiting = true;
    say(`${signal} while the event loop is blocked: exiting without the usual shutdown.`);
    for (const h of signalHandles) h.close();
    signalHandles = [];
    const kill = (s: string): void => {
      process.kill(process.pid, s);
    };
    endChildren();
    try {
      const { Session } = req('node:inspector') as typeof import('node:inspector');
      const session = new Session();
      session.connectToMainThread();
      session.post('Runtime.evaluate', { expression: 'globalThis[Symbol.for("mitmts.watchdog.release")]?.()' });
    } catch {
      kill('SIGKILL');
    }
    const deadline = Date.now() + 1000;
    const wait = setInterval(() => {
      if (Atomics.load(slots, 2) === 1) kill(signal);
      else if (Date.now() > deadline) kill('SIGKILL');
      else return;
      clearInterval(wait);
    }, 10);
  }

  /**
   * SIGTERM to this process's children (e.g. esbuild's service, which prints a Go panic when its
   * parent vanishes while it waits for an answer); the usual shutdown would have ended them.
   */
  function endChildren(): void {
    const { readdirSync, readFileSync } = req('node:fs') as typeof import('node:fs');
    try {
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
          if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid)
            process.kill(Number(pid), 'SIGTERM');
        } catch {
          // gone meanwhile, or not ours to read
        }
      }
    } catch {
      // no /proc: children are left to notice on their own
    }
  }

  function guard(): void {
    if (signalHandles.length > 0) return;
    try {
      // Deprecated internal binding (see the module comment); its warning is not for users.
      (process as { noDeprecation?: boolean }).noDeprecation = true;
      const { Signal } = (
        process as unknown as {
          binding(name: string): {
            Signal: new () => { onsignal: (n: number) => void; start(n: number): number; close(): void; unref(): void };
          };
        }
      ).binding('signal_wrap');
      const { signals } = (req('node:os') as typeof import('node:os')).constants;
      for (const name of ['SIGTERM', 'SIGINT'] as const) {
        const h = new Signal();
        h.onsignal = () => {
          pending = name;
          if (reported) exit(name);
        };
        if (h.start(signals[name]) === 0) {
          h.unref();
          signalHandles.push(h);
        }
      }
    } catch {
      signalHandles = [];
    }
    if (signalHandles.length > 0) parentPort!.postMessage({ guarded: true });
  }

  parentPort!.on('message', (m: { label?: [number, string]; limitMs?: number; signals?: boolean }) => {
    if (m.label) labels.set(m.label[0], m.label[1]);
    if (m.limitMs !== undefined) {
      limitMs = m.limitMs;
      schedule();
    }
    if (m.signals) guard();
  });
  if (data.signals) guard();
  schedule();
}
