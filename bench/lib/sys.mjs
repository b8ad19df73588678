// Small system helpers: free ports, waiting for a listener, /proc readings.
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One TCP connect attempt; resolves true when it was accepted. */
export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Poll until `port` accepts a connection. Returns the `performance.now()` of the first success.
 * Throws if `child` exits first or after `timeoutMs`.
 */
export async function waitForPort(port, { child, timeoutMs = 20_000, intervalMs = 2 } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child && !child.alive)
      throw new Error(`${child.label} exited before listening on port ${port}.\n  ${child.describe()}`);
    if (await canConnect(port)) return performance.now();
    if (performance.now() > deadline) {
      throw new Error(
        `Nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms.${child ? `\n  ${child.describe()}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; null once it is gone. */
export function memOf(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const CLK_TCK = 100; // USER_HZ on Linux

/**
 * User and system (kernel) CPU seconds a process has used so far, and its minor page faults
 * (fresh memory touched: a sign of allocation churn); null once it is gone.
 */
export function cpuTimesOf(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK, minflt: Number(f[7]) };
}

/** User + system CPU seconds a process has used so far; null once it is gone. */
export function cpuSecondsOf(pid) {
  const t = cpuTimesOf(pid);
  return t === null ? null : t.user + t.sys;
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function systemTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Share of all cores busy over the next `ms` milliseconds (other work on the machine). */
export async function machineBusy(ms = 1000) {
  const a = systemTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = systemTicks();
  return a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : null;
}

/**
 * Measure CPU use over an async task: `{ result, cpu: { [pid]: fraction of one core, system:
 * fraction of all cores busy }, cpuSeconds: { [pid]: CPU seconds used }, cpuSplit: { [pid]:
 * { user, sys (seconds), minflt (minor page faults) } }, wall: seconds }`.
 */
export async function withCpu(pids, task) {
  const t0 = performance.now();
  const before = pids.map((p) => cpuTimesOf(p));
  const sys0 = systemTicks();
  const result = await task();
  const wall = (performance.now() - t0) / 1000;
  const sys1 = systemTicks();
  const cpu = {};
  const cpuSeconds = {};
  const cpuSplit = {};
  pids.forEach((p, i) => {
    const after = cpuTimesOf(p);
    const b = before[i];
    cpuSplit[p] =
      after === null || b === null
        ? null
        : { user: after.user - b.user, sys: after.sys - b.sys, minflt: after.minflt - b.minflt };
    cpuSeconds[p] = cpuSplit[p] === null ? null : cpuSplit[p].user + cpuSplit[p].sys;
    cpu[p] = cpuSeconds[p] === null ? null : cpuSeconds[p] / wall;
  });
  cpu.system = sys0 && sys1 && sys1.total > sys0.total ? (sys1.busy - sys0.busy) / (sys1.total - sys0.total) : null;
  return { result, cpu, cpuSeconds, cpuSplit, wall };
}

export function cpuCount() {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('processor')).length;
  } catch {
    return null;
  }
}

/**
 * CPU per unit of work from a `withCpu` split: `{ total, user, sys }` times `scale` (1e6: µs per
 * unit, 1e3: ms), or null when unknown.
 */
export function perUnit(split, n, scale = 1e6) {
  if (!split || !n) return null;
  return {
    total: (scale * (split.user + split.sys)) / n,
    user: (scale * split.user) / n,
    sys: (scale * split.sys) / n,
  };
}
