// (a) HTTP/1.1 keep-alive small GETs, with one response hook loaded in each proxy: req/s direct,
// through mitmts, through mitmdump. wrk when available (absolute-form requests to the proxy via
// a Lua script), else the Node generator; the same generator and connection count for all.
import { fmt, ms, pairedNote, pct, ratio, rounds, table, throughputRatios, times, usSplit } from '../lib/format.mjs';
import { perUnit, withCpu } from '../lib/sys.mjs';
import { runWrk, writeDirectScript, writeProxyScript } from '../lib/wrk.mjs';

export const title = '(a) HTTP/1.1 keep-alive small GETs, response hook loaded';

export async function run(env) {
  const up = env.upstream;
  const hostHeader = `127.0.0.1:${up.http}`;
  const generator = describeGenerator(env);
  const round = async () => {
    const r = { direct: await measureKeepAlive(env, 'direct', up.http, false, [up.pid]) };
    for (const kind of env.proxies) {
      const p = await env.startProxy(kind, { hook: true });
      try {
        await checkHook(env, p, hostHeader);
        r[kind] = { ...(await measureKeepAlive(env, kind, p.port, true, [p.pid, up.pid])), hookVia: p.hookVia };
      } finally {
        await env.stopProxy(p, 'a');
      }
    }
    return r;
  };
  const res = {
    generator,
    connections: env.connections,
    seconds: env.durationS,
    ...(await env.repeated(round, (r) => r.rps)),
  };
  report(env, res);
  return res;
}

/** The load generator in use, logged once per scenario. */
export function describeGenerator(env) {
  const generator = env.wrk ? `wrk (-t1 -c${env.connections})` : `Node generator (${env.connections} connections)`;
  env.log(`  load generator: ${generator}; ${env.warmupS} s warm-up, ${env.durationS} s measured`);
  return generator;
}

/**
 * Keep-alive GETs of `http://127.0.0.1:UPSTREAM/` sent to `port`: in absolute form when
 * `absolute` (an HTTP proxy), else in origin form (the origin itself, or a reverse proxy).
 * `pids`: [proxy, upstream] or [upstream]; their CPU time is measured per request.
 */
export async function measureKeepAlive(env, label, port, absolute, pids) {
  const up = env.upstream;
  const hostHeader = `127.0.0.1:${up.http}`;
  const cpuBy = (cpu) => ({ proxy: pids.length > 1 ? cpu[pids[0]] : null, upstream: cpu[up.pid], system: cpu.system });
  // CPU time per request (µs, user + kernel): robust to other load on the machine, unlike req/s.
  const perRequest = (split, n) => ({
    proxy: pids.length > 1 ? perUnit(split[pids[0]], n) : null,
    upstream: perUnit(split[up.pid], n),
  });
  if (env.wrk) {
    const script = absolute ? writeProxyScript(env.dataDir, up.http) : writeDirectScript(env.dataDir, up.http);
    const url = `http://127.0.0.1:${port}/`;
    await runWrk(env.wrk, { url, script, connections: env.connections, seconds: env.warmupS });
    const backgroundBusy = await env.background(label);
    const m = await withCpu(pids, () =>
      runWrk(env.wrk, { url, script, connections: env.connections, seconds: env.durationS }),
    );
    delete m.result.raw;
    return {
      ...m.result,
      cpu: cpuBy(m.cpu),
      cpuUsPerRequest: perRequest(m.cpuSplit, m.result.requests),
      backgroundBusy,
    };
  }
  const request = `GET ${absolute ? `http://${hostHeader}/` : '/'} HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`;
  const target = absolute ? { host: '127.0.0.1', port: up.http } : { host: '127.0.0.1', port };
  const cfg = {
    mode: 'requests',
    proxy: absolute ? port : null,
    target,
    tls: null,
    request,
    connections: env.connections,
    warmupMs: env.warmupS * 1000,
    durationMs: env.durationS * 1000,
  };
  const backgroundBusy = await env.background(label);
  const m = await withCpu(pids, () => env.loadgen(cfg, (env.warmupS + env.durationS + 60) * 1000));
  return {
    ...m.result,
    cpu: cpuBy(m.cpu),
    cpuUsPerRequest: perRequest(m.cpuSplit, m.result.totalRequests),
    backgroundBusy,
  };
}

/**
 * One request through the proxy (in absolute form to an HTTP proxy, else in origin form): the
 * response must be 200 and carry the hook's header.
 */
export async function checkHook(env, p, hostHeader, absolute = true) {
  const probe = absolute
    ? {
        proxy: p.port,
        target: { host: '127.0.0.1', port: env.upstream.http },
        request: `GET http://${hostHeader}/ HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`,
      }
    : {
        proxy: null,
        target: { host: '127.0.0.1', port: p.port },
        request: `GET / HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`,
      };
  const r = await env.loadgen({ mode: 'probe', tls: null, ...probe });
  if (r.status !== 200 || !/\r\nx-bench: 1\r\n/i.test(r.head)) {
    throw new Error(`${p.kind} did not run the response hook (status ${r.status}, no "x-bench: 1" header):\n${r.head}`);
  }
}

export function report(env, res) {
  const rows = [
    [
      '',
      'req/s',
      'p50',
      'p99',
      'errors',
      'non-200',
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
    `  CPU per request: mitmts ${times(res.ratios.mitmtsCpuPerRequestVsOrigin)} the origin's (direct run), mitmdump ${times(res.ratios.mitmdumpCpuPerRequestVsMitmts)} mitmts's`,
  );
  env.log(
    '  (proxy/upstream CPU: share of one core; machine busy: share of all cores; CPU/req: CPU time of that process per request, user + kernel)',
  );
}

export function summary(res) {
  return [
    {
      scenario: 'a',
      metric: 'HTTP keep-alive req/s, mitmts/direct (hook loaded)',
      value: pct(res.ratios.mitmtsVsDirect),
      target: '>= 50%',
      pass: res.ratios.mitmtsVsDirect >= 0.5,
      extra: `${fmt(res.mitmts?.rps)} vs ${fmt(res.direct?.rps)} req/s${pairedNote(res)}; mitmdump ${pct(res.ratios.mitmdumpVsDirect)}; mitmts ${usSplit(res.mitmts?.cpuUsPerRequest?.proxy)} CPU/req`,
    },
  ];
}
