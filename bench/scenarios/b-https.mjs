// (b) HTTPS keep-alive small GETs through CONNECT with TLS interception, response hook loaded:
// the Node generator opens each connection with CONNECT, then TLS (trusting the proxy's CA),
// then sends small GETs one at a time. Direct: the same generator, TLS straight to the origin.
import { fmt, ms, pairedNote, pct, ratio, rounds, table, throughputRatios, times, usSplit } from '../lib/format.mjs';
import { perUnit, withCpu } from '../lib/sys.mjs';

export const title = '(b) HTTPS keep-alive small GETs through CONNECT + TLS interception, response hook loaded';

const SNI = 'bench.test';

export async function run(env) {
  const up = env.upstream;
  const target = { host: '127.0.0.1', port: up.https };
  const request = `GET / HTTP/1.1\r\nHost: ${SNI}\r\n\r\n`;
  env.log(
    `  load generator: Node (${env.connections} TLS connections, no pipelining); ${env.warmupS} s warm-up, ${env.durationS} s measured`,
  );
  const measure = async (proxy, caPath, pids) => {
    const cfg = {
      mode: 'requests',
      proxy,
      target,
      tls: { servername: SNI, caPath },
      request,
      connections: env.connections,
      warmupMs: env.warmupS * 1000,
      durationMs: env.durationS * 1000,
    };
    const backgroundBusy = await env.background(proxy === null ? 'direct' : 'the proxy run');
    const { result, cpu, cpuSplit } = await withCpu(pids, () =>
      env.loadgen(cfg, (env.warmupS + env.durationS + 60) * 1000),
    );
    const per = (pid) => perUnit(cpuSplit[pid], result.totalRequests);
    return {
      ...result,
      backgroundBusy,
      cpu: { proxy: proxy === null ? null : cpu[pids[0]], upstream: cpu[up.pid], system: cpu.system },
      // CPU time per request (warm-up included on both sides): robust to other load on the machine.
      cpuUsPerRequest: { proxy: proxy === null ? null : per(pids[0]), upstream: per(up.pid) },
    };
  };
  const round = async () => {
    const r = { direct: await measure(null, env.cert.certPath, [up.pid]) };
    for (const kind of env.proxies) {
      // ssl_insecure: the origin's certificate is self-signed.
      const p = await env.startProxy(kind, { hook: true, sets: ['ssl_insecure=true'] });
      try {
        const probe = await env.loadgen({
          mode: 'probe',
          proxy: p.port,
          target,
          tls: { servername: SNI, caPath: p.caPath },
          request,
        });
        if (probe.status !== 200 || !/\r\nx-bench: 1\r\n/i.test(probe.head)) {
          throw new Error(`${kind} did not intercept or did not run the hook (status ${probe.status}):\n${probe.head}`);
        }
        r[kind] = {
          ...(await measure(p.port, p.caPath, [p.pid, up.pid])),
          hookVia: p.hookVia,
          leafIssuer: probe.peer?.issuer ?? null,
        };
      } finally {
        await env.stopProxy(p, 'b');
      }
    }
    return r;
  };
  const res = {
    generator: 'node',
    connections: env.connections,
    seconds: env.durationS,
    ...(await env.repeated(round, (r) => r.rps)),
  };
  report(env, res);
  return res;
}

function report(env, res) {
  const rows = [
    [
      '',
      'req/s',
      'p50',
      'p99',
      'errors',
      'non-200',
      'reconnects',
      'proxy CPU',
      'upstream CPU',
      'machine busy',
      'proxy CPU/req (user+sys)',
      'origin CPU/req (user+sys)',
      'vs direct',
      'rounds',
    ],
  ];
  for (const k of ['direct', ...env.proxies]) {
    const r = res[k];
    if (!r) continue;
    rows.push([
      k,
      fmt(r.rps),
      ms(r.latencyMs?.p50),
      ms(r.latencyMs?.p99),
      fmt(r.errors),
      fmt(r.non200),
      fmt(r.reconnects),
      pct(r.cpu?.proxy),
      pct(r.cpu?.upstream),
      pct(r.cpu?.system),
      usSplit(r.cpuUsPerRequest?.proxy),
      usSplit(r.cpuUsPerRequest?.upstream),
      pct(ratio(r.rps, res.direct.rps)),
      rounds(r),
    ]);
  }
  env.log(table(rows));
  res.ratios = throughputRatios(res);
  env.log(
    `  mitmts/direct ${pct(res.ratios.mitmtsVsDirect)}${pairedNote(res)}, mitmts/mitmdump ${times(res.ratios.mitmtsVsMitmdump)}, mitmdump/direct ${pct(res.ratios.mitmdumpVsDirect)}`,
  );
  env.log(
    `  CPU per request: mitmts ${times(res.ratios.mitmtsCpuPerRequestVsOrigin)} the origin's (direct run; the proxy does TLS on both sides), mitmdump ${times(res.ratios.mitmdumpCpuPerRequestVsMitmts)} mitmts's`,
  );
}

export function summary(res) {
  return [
    {
      scenario: 'b',
      metric: 'HTTPS (CONNECT+TLS) req/s, mitmts/direct (hook loaded)',
      value: pct(res.ratios.mitmtsVsDirect),
      target: '>= 40%',
      pass: res.ratios.mitmtsVsDirect >= 0.4,
      extra: `${fmt(res.mitmts?.rps)} vs ${fmt(res.direct?.rps)} req/s${pairedNote(res)}; mitmdump ${pct(res.ratios.mitmdumpVsDirect)}; mitmts ${usSplit(res.mitmts?.cpuUsPerRequest?.proxy)} CPU/req`,
    },
  ];
}
