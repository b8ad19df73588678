// (c) Fresh TLS handshakes for never-seen host names. Each connection: CONNECT 127.0.0.1:PORT,
// then a TLS handshake with SNI hN-<run>.test, then close. Both proxies run with
// connection_strategy=lazy and upstream_cert=false, so no upstream connection or lookup happens
// before the client handshake: the proxy mints a leaf for the SNI name (checked first: two names
// must get two different leaves naming them) and handshakes. Direct: TLS handshakes straight to
// the origin (one fixed certificate), for scale.
import { randomBytes } from 'node:crypto';
import { fmt, ms, pct, ratio, rounds, table, times } from '../lib/format.mjs';
import { perUnit, withCpu } from '../lib/sys.mjs';

export const title = '(c) Fresh TLS handshakes for never-seen host names (CONNECT + SNI hostN.test)';

const SETS = ['connection_strategy=lazy', 'upstream_cert=false', 'ssl_insecure=true'];

export async function run(env) {
  const up = env.upstream;
  const target = { host: '127.0.0.1', port: up.https };
  const concurrency = 8;
  const seqCount = env.quick ? 10 : 30;
  env.log(
    `  ${concurrency} parallel handshake loops, ${env.warmupS} s warm-up, ${env.durationS} s measured; latency: ${seqCount} sequential new names on a fresh process`,
  );
  // Direct: names under bench.test, which the origin's certificate covers (*.bench.test).
  const suffix = (proxy) => (proxy === null ? '.bench.test' : '.test');
  const hs = async (proxy, caPath, prefix, pids) => {
    const backgroundBusy = await env.background(proxy === null ? 'direct handshakes' : 'proxy handshakes');
    const r = await withCpu(pids, () =>
      env.loadgen(
        {
          mode: 'handshake',
          proxy,
          target,
          tls: { caPath },
          concurrency,
          namePrefix: prefix,
          nameSuffix: suffix(proxy),
          warmupMs: env.warmupS * 1000,
          durationMs: env.durationS * 1000,
        },
        (env.warmupS + env.durationS + 60) * 1000,
      ),
    );
    r.result.backgroundBusy = backgroundBusy;
    return r;
  };
  const seq = (proxy, caPath, prefix) =>
    env.loadgen({
      mode: 'handshake-seq',
      proxy,
      target,
      tls: { caPath },
      count: seqCount,
      namePrefix: prefix,
      nameSuffix: suffix(proxy),
    });

  const round = async () => {
    const run = randomBytes(4).toString('hex');
    const r = {};
    await env.background('direct handshake latency');
    const dLatency = await seq(null, env.cert.certPath, `dseq-${run}-`);
    const d = await hs(null, env.cert.certPath, `d-${run}-`, [up.pid]);
    r.direct = {
      ...d.result,
      firstMs: dLatency.firstMs,
      seqLatencyMs: dLatency.latencyMs,
      cpu: { upstream: d.cpu[up.pid], system: d.cpu.system },
      cpuMsPerHandshake: perUnit(d.cpuSplit[up.pid], d.result.totalHandshakes, 1e3),
    };
    for (const kind of env.proxies) {
      const p = await env.startProxy(kind, { sets: SETS });
      try {
        // First: the very first handshakes of a fresh process, one at a time.
        await env.background(`${kind} handshake latency`);
        const latency = await seq(p.port, p.caPath, `seq-${kind}-${run}-`);
        const minted = await checkMinting(env, p, target, `v-${kind}-${run}`);
        const { result, cpu, cpuSplit } = await hs(p.port, p.caPath, `h-${kind}-${run}-`, [p.pid]);
        const cpuMsPerHandshake = perUnit(cpuSplit[p.pid], result.totalHandshakes, 1e3);
        r[kind] = {
          ...result,
          firstMs: latency.firstMs,
          seqLatencyMs: latency.latencyMs,
          seqAll: latency.all,
          minted,
          cpu: { proxy: cpu[p.pid], system: cpu.system },
          cpuMsPerHandshake,
        };
      } finally {
        await env.stopProxy(p, 'c');
      }
    }
    return r;
  };
  const res = { concurrency, seconds: env.durationS, ...(await env.repeated(round, (r) => r.perSecond)) };
  report(env, res);
  return res;
}

/** Two new names through the proxy: each gets a leaf naming it, the leaves differ, a GET works. */
async function checkMinting(env, p, target, prefix) {
  const certs = [];
  for (const i of [1, 2]) {
    const name = `${prefix}-${i}.test`;
    const r = await env.loadgen({
      mode: 'probe',
      proxy: p.port,
      target,
      tls: { servername: name, caPath: p.caPath },
      request: `GET / HTTP/1.1\r\nHost: ${name}\r\n\r\n`,
    });
    if (r.status !== 200)
      throw new Error(`${p.kind}: GET through a lazy CONNECT tunnel answered ${r.status}:\n${r.head}`);
    if (!r.peer?.san?.includes(`DNS:${name}`))
      throw new Error(`${p.kind}: the leaf for ${name} does not name it (subjectAltName: ${r.peer?.san}).`);
    certs.push(r.peer);
  }
  if (certs[0].fingerprint === certs[1].fingerprint)
    throw new Error(`${p.kind}: two host names got the same leaf certificate; no new leaf per name.`);
  return { perName: true, sanExample: certs[0].san, issuer: certs[0].issuer };
}

function report(env, res) {
  const rows = [
    [
      '',
      'handshakes/s',
      'p50 (parallel)',
      'p99 (parallel)',
      'errors',
      'very first',
      'new name p50 (seq)',
      'p90 (seq)',
      'server CPU',
      'server CPU/handshake',
      'machine busy',
      'rounds',
    ],
  ];
  for (const k of ['direct', ...env.proxies]) {
    const r = res[k];
    if (!r) continue;
    rows.push([
      k,
      fmt(r.perSecond),
      ms(r.latencyMs?.p50),
      ms(r.latencyMs?.p99),
      fmt(r.errors),
      ms(r.firstMs),
      ms(r.seqLatencyMs?.p50),
      ms(r.seqLatencyMs?.p90),
      pct(r.cpu.proxy ?? r.cpu.upstream),
      ms(r.cpuMsPerHandshake?.total),
      pct(r.cpu.system),
      rounds(r),
    ]);
  }
  env.log(table(rows));
  res.ratios = {
    mitmtsVsMitmdump: ratio(res.mitmts?.perSecond, res.mitmdump?.perSecond),
    mitmtsVsDirect: ratio(res.mitmts?.perSecond, res.direct?.perSecond),
  };
  res.ratios.mitmdumpCpuPerHandshakeVsMitmts = ratio(
    res.mitmdump?.cpuMsPerHandshake?.total,
    res.mitmts?.cpuMsPerHandshake?.total,
  );
  env.log(
    `  mitmts/mitmdump ${times(res.ratios.mitmtsVsMitmdump)}, mitmts/direct ${times(res.ratios.mitmtsVsDirect)}; CPU per handshake: mitmdump ${times(res.ratios.mitmdumpCpuPerHandshakeVsMitmts)} mitmts's`,
  );
  env.log('  latency = CONNECT sent to TLS established, per new name; server = the proxy (direct: the origin)');
  if (res.mitmts?.minted)
    env.log(
      `  leaf per name checked: e.g. ${res.mitmts.minted.sanExample} issued by ${res.mitmts.minted.issuer}${res.mitmdump?.minted ? `; mitmdump: ${res.mitmdump.minted.sanExample}` : ''}`,
    );
}

export function summary(res) {
  const rows = [];
  const r = res.ratios.mitmtsVsMitmdump;
  rows.push({
    scenario: 'c',
    metric: 'new-name handshakes/s, mitmts/mitmdump',
    value: r === null ? '-' : times(r),
    target: '>= 3x',
    pass: r === null ? null : r >= 3,
    extra: `${fmt(res.mitmts?.perSecond)} vs ${fmt(res.mitmdump?.perSecond)} /s; CPU/handshake ${ms(res.mitmts?.cpuMsPerHandshake?.total)} vs ${ms(res.mitmdump?.cpuMsPerHandshake?.total)}`,
  });
  const p50 = res.mitmts?.seqLatencyMs?.p50;
  rows.push({
    scenario: 'c',
    metric: 'first handshake for a new host (p50, sequential)',
    value: ms(p50),
    target: '< 20 ms',
    pass: p50 < 20,
    extra: `mitmdump ${ms(res.mitmdump?.seqLatencyMs?.p50)}; direct TLS ${ms(res.direct?.seqLatencyMs?.p50)}`,
  });
  rows.push({
    scenario: 'c',
    metric: 'very first new host after start (cold)',
    value: ms(res.mitmts?.firstMs),
    target: '-',
    pass: null,
    extra: `mitmdump ${ms(res.mitmdump?.firstMs)}`,
  });
  return rows;
}
