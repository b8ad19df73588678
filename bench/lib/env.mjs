// What every scenario gets: settings, the upstream process, and helpers to run the load
// generator, start proxies and collect profiles.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Child, runToEnd } from './children.mjs';
import { formatProfile, summarizeProfile } from './profile.mjs';
import { ROOT, startProxy } from './proxies.mjs';
import { machineBusy } from './sys.mjs';
import { upstreamCert } from './upstream-cert.mjs';

const LOADGEN = join(ROOT, 'bench/lib/loadgen.mjs');
const UPSTREAM = join(ROOT, 'bench/lib/upstream.mjs');

export class BenchEnv {
  /**
   * @param {object} s settings: quick, mitmdump (bool), profile (bool), wrk (path or null),
   *   connections, warmupS, durationS, downloadBytes
   */
  constructor(s) {
    Object.assign(this, s);
    this.root = ROOT;
    this.dataDir = join(ROOT, '.bench-data');
    this.profileDir = s.profile ? join(this.dataDir, 'profiles') : null;
    mkdirSync(this.dataDir, { recursive: true });
    this.upstream = null;
    this.profiles = [];
  }

  /**
   * Other load on the machine right before a measurement: samples 300 ms of /proc/stat (our own
   * idle children use ~0). With --wait-idle S, waits up to S seconds for it to fall below 15%.
   * Returns the last share of all cores busy; logs it when high.
   */
  async background(label) {
    const deadline = performance.now() + (this.waitIdleS ?? 0) * 1000;
    let busy = await machineBusy(300);
    let waited = false;
    while (busy > 0.15 && performance.now() < deadline) {
      if (!waited)
        this.log(`  waiting for the machine to go idle before ${label} (${(100 * busy).toFixed(0)}% busy)...`);
      waited = true;
      busy = await machineBusy(1000);
    }
    if (busy > 0.15)
      this.log(`  note: ${(100 * busy).toFixed(0)}% of the CPU was busy with other work right before ${label}`);
    return busy;
  }

  /**
   * Run `once()` (which measures every target once and returns `{ direct, mitmts, mitmdump }`)
   * `this.repeat` times, the targets interleaved in each round, and keep per target the round
   * with the median `metric`; every round's metric is kept in `rounds`. One round: as is.
   */
  async repeated(once, metric) {
    const n = this.repeat ?? 1;
    const all = [];
    for (let i = 0; i < n; i++) {
      if (n > 1) this.log(`  round ${i + 1} of ${n}`);
      all.push(await once());
    }
    if (n === 1) return all[0];
    const out = {};
    for (const key of Object.keys(all[0])) {
      const runs = all.map((r) => r[key]).filter((r) => r && typeof metric(r) === 'number');
      if (runs.length === 0) {
        out[key] = all[0][key];
        continue;
      }
      const sorted = [...runs].sort((a, b) => metric(a) - metric(b));
      out[key] = { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: runs.map(metric) };
    }
    return out;
  }

  log(msg) {
    process.stdout.write(`${msg}\n`);
  }

  /** The proxies to compare, in order. */
  get proxies() {
    return this.mitmdump ? ['mitmts', 'mitmdump'] : ['mitmts'];
  }

  async startUpstream() {
    this.cert = upstreamCert(this.dataDir);
    const child = new Child('upstream', process.execPath, [UPSTREAM, this.cert.keyPath, this.cert.certPath], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const msg = await new Promise((resolve, reject) => {
      child.proc.once('message', resolve);
      child.exited.then(() => reject(new Error(`The upstream server did not start.\n  ${child.describe()}`)));
    });
    this.upstream = { child, pid: child.pid, ...msg.ports };
    return this.upstream;
  }

  /** Run the Node load generator in its own process; resolves its JSON result or throws. */
  async loadgen(cfg, timeoutMs = 120_000) {
    const r = await runToEnd('loadgen', process.execPath, [LOADGEN, JSON.stringify(cfg)], { cwd: ROOT, timeoutMs });
    const last = r.out.trim().split('\n').pop();
    let res = null;
    try {
      res = JSON.parse(last);
    } catch {
      // reported below
    }
    if (!res || res.failed || r.code !== 0) {
      throw new Error(
        `load generator (${cfg.mode}) failed: ${res?.failed ?? `exit ${r.code}`}${r.err.trim() ? `\n  ${r.err.trim().split('\n').slice(-10).join('\n  ')}` : ''}`,
      );
    }
    return res;
  }

  /** Start a proxy (see proxies.mjs); under --profile, mitmts runs with --cpu-prof. */
  startProxy(kind, opts = {}) {
    const profileDir = kind === 'mitmts' && this.profileDir && opts.profile !== false ? this.profileDir : null;
    return startProxy(kind, { dataDir: this.dataDir, profileDir, ...opts });
  }

  /** Stop a proxy; if it ran under --cpu-prof, print and keep the top frames. */
  async stopProxy(p, scenario) {
    await p.stop();
    if (!p.profilePath) return null;
    try {
      const summary = summarizeProfile(p.profilePath, ROOT);
      this.log(
        `\n  CPU profile of mitmts, scenario ${scenario} (${p.profilePath}):\n${formatProfile(summary, 15).replace(/^/gm, '    ')}\n`,
      );
      const kept = {
        scenario,
        path: p.profilePath,
        busyMs: summary.busyMs,
        idleMs: summary.idleMs,
        top: summary.frames.slice(0, 15),
        files: summary.files.slice(0, 10),
        categories: summary.categories,
      };
      this.profiles.push(kept);
      return kept;
    } catch (err) {
      this.log(`  (no CPU profile from mitmts for ${scenario}: ${err.message})`);
      return null;
    }
  }
}
