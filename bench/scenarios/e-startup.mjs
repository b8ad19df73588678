// (e) Start-up time (spawn to the first accepted TCP connection, and to the "listening" log
// line) and idle RSS (1 s after listening, no traffic), median of several starts with an
// existing CA; plus one start with an empty confdir (the CA is created), for information.
import { rmSync } from 'node:fs';
import { mib, ms, ratio, table, times } from '../lib/format.mjs';
import { memOf } from '../lib/sys.mjs';

export const title = '(e) Start-up time and idle RSS';

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

export async function run(env) {
  const runs = env.quick ? 3 : 5;
  const idleMs = 1000;
  env.log(`  ${runs} starts each (CA already in confdir), median; idle RSS read ${idleMs} ms after listening`);
  const res = { runs, idleMs };
  for (const kind of env.proxies) {
    // Prime the confdir (CA) so the timed starts measure start-up, not key generation.
    await (await env.startProxy(kind, { profile: false })).stop();
    const starts = [];
    for (let i = 0; i < runs; i++) {
      const p = await env.startProxy(kind, { quiet: false, profile: false });
      try {
        await new Promise((r) => setTimeout(r, idleMs));
        const mem = memOf(p.pid);
        starts.push({
          listeningMs: p.listeningMs,
          logLineMs: p.listeningLogMs(),
          idleRssBytes: mem?.rss ?? null,
          idleHwmBytes: mem?.hwm ?? null,
        });
      } finally {
        await p.stop();
      }
    }
    const fresh = await env.startProxy(kind, { quiet: false, profile: false, freshConfdir: true });
    const freshStart = { listeningMs: fresh.listeningMs, logLineMs: fresh.listeningLogMs() };
    await fresh.stop();
    rmSync(fresh.confdir, { recursive: true, force: true });
    res[kind] = {
      listeningMs: median(starts.map((s) => s.listeningMs)),
      logLineMs: median(starts.map((s) => s.logLineMs)),
      idleRssBytes: median(starts.map((s) => s.idleRssBytes)),
      idleHwmBytes: median(starts.map((s) => s.idleHwmBytes)),
      freshConfdirListeningMs: freshStart.listeningMs,
      starts,
    };
  }
  if (env.profileDir && env.proxies.includes('mitmts')) {
    // --profile: one more start under --cpu-prof, stopped right after it listens.
    const p = await env.startProxy('mitmts', { tag: 'startup' });
    await env.stopProxy(p, 'e (start-up until listening, then shutdown)');
  }
  report(env, res);
  return res;
}

function report(env, res) {
  const rows = [['', 'to listening (TCP)', 'to log line', 'idle RSS', 'idle VmHWM', 'first start (new CA)']];
  for (const k of env.proxies) {
    const r = res[k];
    if (r)
      rows.push([
        k,
        ms(r.listeningMs),
        ms(r.logLineMs),
        mib(r.idleRssBytes),
        mib(r.idleHwmBytes),
        ms(r.freshConfdirListeningMs),
      ]);
  }
  env.log(table(rows));
  res.ratios = {
    listeningMitmtsVsMitmdump: ratio(res.mitmts?.listeningMs, res.mitmdump?.listeningMs),
    idleRssMitmtsVsMitmdump: ratio(res.mitmts?.idleRssBytes, res.mitmdump?.idleRssBytes),
  };
  env.log(
    `  mitmts/mitmdump: start-up time ${times(res.ratios.listeningMitmtsVsMitmdump)}, idle RSS ${times(res.ratios.idleRssMitmtsVsMitmdump)} (lower is better)`,
  );
}

export function summary(res) {
  const m = res.mitmts;
  return [
    {
      scenario: 'e',
      metric: 'idle RSS of mitmts',
      value: mib(m?.idleRssBytes),
      target: '< 60 MiB',
      pass: m?.idleRssBytes < 60 * 1048576,
      extra: `mitmdump ${mib(res.mitmdump?.idleRssBytes)}`,
    },
    {
      scenario: 'e',
      metric: 'mitmts spawn to listening',
      value: ms(m?.listeningMs),
      target: '< 300 ms',
      pass: m?.listeningMs < 300,
      extra: `mitmdump ${ms(res.mitmdump?.listeningMs)}; new CA ${ms(m?.freshConfdirListeningMs)}`,
    },
  ];
}
