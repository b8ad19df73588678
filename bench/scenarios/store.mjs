// (store) The SQLite flow store (addons/store), optional: `npm run bench -- --only store`.
//   1. throughput: scenario (a)'s load through mitmts with the store off, on (flows written when
//      they complete), on with store_inflight_ms=0 (written at the request too), and with
//      save_stream_file for reference; target: the store costs < 15% of the req/s;
//   2. memory: 1 GiB of distinct 1 MiB bodies captured with the store on; target: RSS < 150 MiB;
//   3. queries over 1,000,000 flows written straight through the store's writer (not through the
//      proxy): `mitmts flows DB '~d example & ~c 404'` (target < 1 s), other filters, windows
//      and a body search (bench/lib/store-data.mjs);
//   4. the opt-in sinks' CPU per flow on the proxy's thread (ClickHouse, OpenTelemetry), for
//      docs/scale-out.md (bench/lib/store-sinks.mjs).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, mib, pct, ratio, table, usSplit } from '../lib/format.mjs';
import { memOf, perUnit, withCpu } from '../lib/sys.mjs';
import { runWrk, writeProxyScript } from '../lib/wrk.mjs';
import { captureBodies } from '../lib/store-bodies.mjs';
import { queryBenchmarks } from '../lib/store-data.mjs';
import { sinkCosts } from '../lib/store-sinks.mjs';

export const title = '(store) SQLite flow store: throughput, memory, queries over 1,000,000 flows';
/** Not part of a plain `npm run bench`: it writes a ~1 GB database and takes minutes. */
export const optional = true;

const VARIANTS = [
  { key: 'off', label: 'store off', sets: () => [] },
  { key: 'store', label: 'store on', sets: (dir) => [`store=${join(dir, 'tp.db')}`] },
  {
    key: 'store0',
    label: 'store on, inflight 0',
    sets: (dir) => [`store=${join(dir, 'tp0.db')}`, 'store_inflight_ms=0'],
  },
  { key: 'save', label: 'save_stream_file', sets: (dir) => [`save_stream_file=${join(dir, 'tp.mitm')}`] },
];

/** Write back everything the kernel holds dirty (`sync`); a machine without it just goes on. */
function syncDisk() {
  try {
    execFileSync('sync', { stdio: 'ignore', timeout: 120_000 });
  } catch {
    // No sync(1) here: the timings then include whatever writeback is still going on.
  }
}

async function throughput(env, dir) {
  if (!env.wrk) throw new Error("the store throughput benchmark needs wrk (it measures scenario (a)'s load)");
  const up = env.upstream;
  const script = writeProxyScript(env.dataDir, up.http);
  const round = async () => {
    const r = {};
    for (const v of VARIANTS) {
      for (const db of ['tp.db', 'tp0.db'])
        for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.records`]) rmSync(join(dir, f), { force: true });
      rmSync(join(dir, 'tp.mitm'), { force: true });
      const p = await env.startProxy('mitmts', { hook: true, sets: v.sets(dir), tag: `store-${v.key}` });
      try {
        const url = `http://127.0.0.1:${p.port}/`;
        await runWrk(env.wrk, { url, script, connections: env.connections, seconds: env.warmupS });
        const backgroundBusy = await env.background(v.label);
        const m = await withCpu([p.pid], () =>
          runWrk(env.wrk, { url, script, connections: env.connections, seconds: env.durationS }),
        );
        r[v.key] = {
          rps: m.result.rps,
          requests: m.result.requests,
          non200: m.result.non200,
          cpuUs: perUnit(m.cpuSplit[p.pid], m.result.requests),
          rss: memOf(p.pid)?.rss ?? null,
          backgroundBusy,
        };
      } finally {
        await env.stopProxy(p, `store-${v.key}`);
      }
    }
    return r;
  };
  return env.repeated(round, (x) => x.rps);
}

export async function run(env) {
  const dir = join(env.dataDir, 'store');
  rmSync(dir, { recursive: true, force: true });
  const res = {};
  env.log(
    `  1. throughput: wrk -c${env.connections}, ${env.warmupS} s warm-up, ${env.durationS} s measured, response hook loaded (as in (a))`,
  );
  res.throughput = await throughput(env, dir);
  const off = res.throughput.off;
  const rows = [['', 'req/s', 'vs off', 'proxy CPU/req', 'RSS after', 'non-2xx']];
  for (const v of VARIANTS) {
    const r = res.throughput[v.key];
    rows.push([v.label, fmt(r.rps), pct(ratio(r.rps, off.rps)), usSplit(r.cpuUs), mib(r.rss), fmt(r.non200)]);
  }
  env.log(table(rows));
  if (off.rounds) {
    // The variants alternate within each round: a round's ratio compares like with like (this host's req/s drift between rounds).
    const per = (key) => res.throughput[key].rounds.map((r, i) => pct(ratio(r, off.rounds[i]))).join(', ');
    env.log(
      `  per round, vs off: store on ${per('store')}; inflight 0 ${per('store0')}; save_stream_file ${per('save')}`,
    );
  }
  res.storeCost = 1 - ratio(res.throughput.store.rps, off.rps);
  env.log(
    `  the store costs ${pct(res.storeCost)} of the req/s (target < 15%); written at the request too: ${pct(1 - ratio(res.throughput.store0.rps, off.rps))}`,
  );

  env.log('\n  2. memory: 1 GiB of distinct 1 MiB bodies through the proxy with the store on');
  res.memory = await captureBodies(env, dir, env.quick ? 256 : 1024);
  env.log(
    `  ${res.memory.bodies} bodies (${mib(res.memory.bytes)}) in ${res.memory.seconds.toFixed(1)} s; proxy RSS at the end ${mib(res.memory.rss)}, peak ${mib(res.memory.hwm)} (target < 150 MiB); ${fmt(res.memory.stored)} flows in the store, ${res.memory.bodyFiles} body files`,
  );

  // The memory run left ~1 GiB of body files for the kernel to write back: let that finish
  // first, so that the query timings measure the queries, not the disk catching up.
  syncDisk();
  env.log(`\n  3. queries over ${fmt(env.quick ? 100_000 : 1_000_000)} flows`);
  res.queries = await queryBenchmarks(env, dir, env.quick ? 100_000 : 1_000_000);

  const n = env.quick ? 5000 : 20_000;
  env.log(
    `\n  4. sinks: ${fmt(n)} flows through each, CPU of the proxy's thread per flow (receivers in another process)`,
  );
  res.sinks = await sinkCosts(n);
  env.log(
    table([
      ['sink', 'CPU per flow', 'flows/s of one core at 100%', 'received'],
      [
        'ClickHouse (batches of 1,000)',
        `${res.sinks.clickhouse.cpuUsPerFlow.toFixed(1)} µs`,
        fmt(1e6 / res.sinks.clickhouse.cpuUsPerFlow),
        `${fmt(res.sinks.clickhouse.rowsReceived)} rows`,
      ],
      [
        'OpenTelemetry (OTLP/HTTP JSON)',
        `${res.sinks.otel.cpuUsPerFlow.toFixed(1)} µs`,
        fmt(1e6 / res.sinks.otel.cpuUsPerFlow),
        '',
      ],
    ]),
  );
  return res;
}

export function summary(res) {
  const t = res.throughput;
  const q = res.queries;
  return [
    {
      scenario: 'store',
      metric: 'req/s with the store on, vs off',
      value: pct(1 - res.storeCost),
      target: '>= 85%',
      pass: res.storeCost < 0.15,
      extra: `${fmt(t.store.rps)} vs ${fmt(t.off.rps)} req/s; save_stream_file ${pct(ratio(t.save.rps, t.off.rps))}; at the request too ${pct(ratio(t.store0.rps, t.off.rps))}`,
    },
    {
      scenario: 'store',
      metric: 'proxy RSS after 1 GiB of bodies captured',
      value: mib(res.memory.hwm),
      target: '< 150 MiB',
      pass: res.memory.hwm < 150 * 1048576,
      extra: `end ${mib(res.memory.rss)}; ${mib(res.memory.bytes)} captured`,
    },
    {
      scenario: 'store',
      metric: `mitmts flows DB '~d example & ~c 404' (${fmt(q.flows)} flows)`,
      value: `${q.cli.indexed.seconds.toFixed(2)} s`,
      target: '< 1 s',
      pass: q.cli.indexed.seconds < 1,
      extra: `${q.cli.indexed.cpuSeconds === null ? '' : `${q.cli.indexed.cpuSeconds.toFixed(2)} s CPU; `}${fmt(q.cli.indexed.lines)} flows printed; body search ${q.cli.body.seconds.toFixed(1)} s`,
    },
  ];
}
