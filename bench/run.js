// `npm run bench`: mitmts against a direct connection and against mitmdump (when installed), in
// one run, as separate processes. See bench/README.md.
//
//   node bench/run.js [--only a,b,c,d,e,f,g,reverse,flows,scripts,websocket,sse,web] [--quick] [--no-mitmdump] [--profile]
//                     [--connections N] [--duration S] [--no-wrk]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { installCleanup, stopAll } from './lib/children.mjs';
import { BenchEnv } from './lib/env.mjs';
import { table } from './lib/format.mjs';
import { mitmdumpAvailable, MITMDUMP, ROOT } from './lib/proxies.mjs';
import { machineBusy } from './lib/sys.mjs';
import { findWrk } from './lib/wrk.mjs';
import * as a from './scenarios/a-http.mjs';
import * as b from './scenarios/b-https.mjs';
import * as c from './scenarios/c-handshakes.mjs';
import * as d from './scenarios/d-download.mjs';
import * as e from './scenarios/e-startup.mjs';
import * as f from './scenarios/f-h2.mjs';
import * as g from './scenarios/g-websocket.mjs';
import * as reverse from './scenarios/reverse.mjs';
import * as external from './scenarios/external.mjs';
import * as store from './scenarios/store.mjs';

/** Scenarios with `optional` set run only when named in --only. */
const SCENARIOS = {
  a,
  b,
  c,
  d,
  e,
  f,
  g,
  reverse,
  flows: external.flows,
  scripts: external.scripts,
  websocket: external.websocket,
  sse: external.sse,
  web: external.web,
  store,
};

function usage() {
  return `usage: node bench/run.js [options]
  --only LIST        scenarios to run, comma-separated: ${Object.keys(SCENARIOS).join(',')}
                     (default: all but the optional ones: ${Object.keys(SCENARIOS)
                       .filter((k) => SCENARIOS[k].optional)
                       .join(',')})
  --quick            short runs (1 s warm-up, 2 s measured, 256 MiB download, fewer repeats)
  --no-mitmdump      skip mitmdump even if installed
  --profile          run mitmts under node --cpu-prof and print the top 15 self-time frames
                     per scenario (slows mitmts down: numbers are not for the targets)
  --connections N    keep-alive connections for (a), (b) and (reverse) (default 32)
  --duration S       measured seconds for (a), (b), (c) (default 5; warm-up 2)
  --no-wrk           use the Node load generator for (a) and (reverse) even if wrk is installed
  --repeat N         measure (a)-(d), (f) N times, targets interleaved, and keep the median round
                     per target (default 1; 3 on a machine with other load)
  --wait-idle S      before each measurement, wait up to S seconds for other load on the
                     machine to fall below 15% of the CPU (default 0: just report it)
`;
}

function parseArgs(argv) {
  const o = {
    only: null,
    quick: false,
    mitmdump: true,
    profile: false,
    connections: 32,
    duration: null,
    wrk: true,
    waitIdle: 0,
    repeat: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value.\n\n${usage()}`);
      return v;
    };
    if (a === '--only')
      o.only = next()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a.startsWith('--only=')) o.only = a.slice(7).split(',').filter(Boolean);
    else if (a === '--quick') o.quick = true;
    else if (a === '--no-mitmdump') o.mitmdump = false;
    else if (a === '--profile') o.profile = true;
    else if (a === '--no-wrk') o.wrk = false;
    else if (a === '--connections') o.connections = Number(next());
    else if (a === '--duration') o.duration = Number(next());
    else if (a === '--wait-idle') o.waitIdle = Number(next());
    else if (a === '--repeat') o.repeat = Number(next());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(usage());
      process.exit(0);
    } else throw new Error(`Unknown argument ${a}.\n\n${usage()}`);
  }
  for (const s of o.only ?? [])
    if (!SCENARIOS[s])
      throw new Error(`Unknown scenario "${s}" in --only; known: ${Object.keys(SCENARIOS).join(', ')}.`);
  if (!(o.connections > 0)) throw new Error('--connections must be a positive number.');
  if (!(Number.isInteger(o.repeat) && o.repeat >= 1)) throw new Error('--repeat must be a whole number, 1 or more.');
  if (!(o.waitIdle >= 0)) throw new Error('--wait-idle must be a number of seconds (0 or more).');
  if (o.duration !== null && !(o.duration > 0)) throw new Error('--duration must be a positive number of seconds.');
  return o;
}

function versionOf(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }).trim();
  } catch {
    return null;
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  installCleanup();
  const selected = opts.only ?? Object.keys(SCENARIOS).filter((k) => !SCENARIOS[k].optional);
  const mitmdump = opts.mitmdump ? mitmdumpAvailable() : null;
  const needsWrk = ['a', 'reverse', 'store'].some((s) => selected.includes(s)) && opts.wrk;
  const env = new BenchEnv({
    quick: opts.quick,
    mitmdump: mitmdump !== null,
    profile: opts.profile,
    wrk: needsWrk ? findWrk({ log: (m) => process.stdout.write(`[bench] ${m}\n`) }) : null,
    connections: opts.connections,
    warmupS: opts.quick ? 1 : 2,
    durationS: opts.duration ?? (opts.quick ? 2 : 5),
    downloadBytes: opts.quick ? 256 * 1048576 : 1024 * 1048576,
    waitIdleS: opts.waitIdle,
    repeat: opts.repeat,
  });
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const meta = {
    date: new Date().toISOString(),
    commit: versionOf('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    node: process.version,
    cpus,
    cpuModel: os.cpus()[0]?.model ?? null,
    mitmdump: mitmdump ? (versionOf(MITMDUMP, ['--version'])?.split('\n')[0] ?? 'installed') : null,
    wrk: env.wrk ? (versionOf(env.wrk, ['-v'])?.split('\n')[0] ?? env.wrk) : null,
    quick: opts.quick,
    profile: opts.profile,
    connections: env.connections,
    warmupS: env.warmupS,
    durationS: env.durationS,
    repeat: env.repeat,
  };
  env.log(
    `mitmts benchmarks (${meta.date}, commit ${meta.commit ?? '?'}, Node ${meta.node}${meta.mitmdump ? `, ${meta.mitmdump}` : ', mitmdump not compared'})`,
  );
  env.log(
    `Machine: ${cpus} core(s) (${meta.cpuModel}). The load generator, the upstream server and the proxy all share them, so`,
  );
  env.log(`each figure is for the whole system on this machine; ratios taken in the same run are the comparable part.`);
  meta.backgroundBusy = await machineBusy(1000);
  env.log(`Background load before starting: ${(100 * (meta.backgroundBusy ?? 0)).toFixed(1)}% of all cores busy.`);
  if (meta.backgroundBusy > 0.1)
    env.log('WARNING: something else is using the CPU; numbers will be lower and noisier than on an idle machine.');
  if (opts.profile)
    env.log('--profile: mitmts runs under --cpu-prof in every scenario; its numbers are slowed down by the profiler.');
  if (!opts.mitmdump) env.log('--no-mitmdump: mitmdump not compared.');
  else if (!mitmdump) env.log(`mitmdump not found at ${MITMDUMP}: mitmdump not compared.`);

  const results = { meta, scenarios: {}, errors: {}, summary: [], profiles: [] };
  const needsUpstream = selected.some((s) => ['a', 'b', 'c', 'd', 'reverse', 'store'].includes(s));
  try {
    if (needsUpstream) {
      const up = await env.startUpstream();
      env.log(`Upstream: Node http on 127.0.0.1:${up.http}, https on 127.0.0.1:${up.https} (pid ${up.pid}).`);
    }
    for (const key of selected) {
      const s = SCENARIOS[key];
      env.log(`\n${s.title}`);
      try {
        results.scenarios[key] = await s.run(env);
        results.summary.push(...(s.summary?.(results.scenarios[key]) ?? []));
      } catch (err) {
        results.errors[key] = err.message;
        env.log(`  FAILED: ${err.message.replace(/\n/g, '\n  ')}`);
        results.summary.push({
          scenario: key,
          metric: clip(s.title, 60),
          value: 'failed',
          target: '-',
          pass: false,
          extra: err.message.split('\n')[0],
        });
      }
    }
  } finally {
    await stopAll();
  }
  results.profiles = env.profiles;
  printSummary(env, results);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, opts.only || opts.profile ? 'latest-partial.json' : 'latest.json');
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  env.log(`\nResults written to ${out.slice(ROOT.length + 1)}.`);
  process.exitCode = Object.keys(results.errors).length ? 1 : 0;
}

function clip(s, n) {
  return s.length > n ? `${s.slice(0, n - 3)}...` : s;
}

function printSummary(env, results) {
  if (!results.summary.length) return;
  const rows = [['', 'figure', 'value', 'target', 'result', 'detail']];
  for (const r of results.summary) {
    rows.push([
      r.scenario,
      r.metric,
      r.value,
      r.target,
      r.pass === null ? 'info' : r.pass ? 'PASS' : 'MISS',
      clip(r.extra ?? '', 90),
    ]);
  }
  env.log(
    `\nSummary (issue 4 targets)${env.profile ? ' [under --profile: not representative]' : ''}${env.quick ? ' [--quick: short runs]' : ''}`,
  );
  env.log(table(rows));
}

main().catch(async (err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  await stopAll();
  process.exit(2);
});
