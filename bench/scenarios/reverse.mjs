// (reverse) HTTP/1.1 keep-alive small GETs to a reverse proxy in front of the origin
// (`--set mode=reverse:http://127.0.0.1:ORIGIN`), one response hook loaded, against the origin
// itself: the same origin-form requests, the same generator and connection count as (a).
import { fmt, pairedNote, pct, throughputRatios, times, usSplit } from '../lib/format.mjs';
import { checkHook, describeGenerator, measureKeepAlive, report as reportA } from './a-http.mjs';

export const title = '(reverse) HTTP/1.1 keep-alive small GETs through a reverse proxy, response hook loaded';

export async function run(env) {
  const up = env.upstream;
  const hostHeader = `127.0.0.1:${up.http}`;
  const generator = describeGenerator(env);
  const sets = [`mode=reverse:http://${hostHeader}`];
  const round = async () => {
    const r = { direct: await measureKeepAlive(env, 'direct', up.http, false, [up.pid]) };
    for (const kind of env.proxies) {
      const p = await env.startProxy(kind, { hook: true, sets });
      try {
        await checkHook(env, p, hostHeader, false);
        r[kind] = {
          ...(await measureKeepAlive(env, `${kind} (reverse)`, p.port, false, [p.pid, up.pid])),
          hookVia: p.hookVia,
        };
      } finally {
        await env.stopProxy(p, 'reverse');
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
  reportA(env, res);
  return res;
}

export function summary(res) {
  const r = res.ratios ?? throughputRatios(res);
  return [
    {
      scenario: 'reverse',
      metric: 'reverse proxy keep-alive req/s, mitmts/direct (hook loaded)',
      value: pct(r.mitmtsVsDirect),
      target: '>= 50%',
      pass: r.mitmtsVsDirect >= 0.5,
      extra: `${fmt(res.mitmts?.rps)} vs ${fmt(res.direct?.rps)} req/s${pairedNote(res)}; mitmts ${usSplit(res.mitmts?.cpuUsPerRequest?.proxy)} CPU/req; mitmdump ${pct(r.mitmdumpVsDirect)}, ${times(r.mitmdumpCpuPerRequestVsMitmts)} mitmts's CPU/req`,
    },
  ];
}
