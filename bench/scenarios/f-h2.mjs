// (f) HTTP/2: small streams with h2load through each proxy and straight at the origin (nghttpd
// over TLS, 100-byte file), the proxy's CPU per stream; then one 64 MiB download through each
// proxy, through a TLS relay (the floor), and direct, with the proxy's peak RSS.
//
// h2load cannot CONNECT, so it reaches a proxy the way its own clients would without one:
// mitmdump in reverse mode (`reverse:https://origin`, TLS on both legs); mitmts the same when
// its build has reverse mode, else in regular mode with cleartext HTTP/2 and prior knowledge
// (`--connect-to` the proxy, `:scheme https` so the server leg is TLS): one TLS leg fewer, said so
// in the output.
import { fmt, mib, pct, ratio, table, times } from '../lib/format.mjs';
import { h2Docs, h2load, h2Tools, nghttpd, tlsRelay } from '../lib/h2.mjs';
import { memOf, perUnit, withCpu } from '../lib/sys.mjs';
import { upstreamCert } from '../lib/upstream-cert.mjs';

export const title = '(f) HTTP/2: small streams (h2load -c 4 -m 20) and a 64 MiB download';

const SMALL = 100;
const BIG = 64 << 20;

export async function run(env) {
  const tools = h2Tools((m) => env.log(`  ${m}`));
  if ('missing' in tools) throw new Error(`(f) needs h2load and nghttpd: ${tools.missing}`);
  const paths = tools.paths;
  const cert = upstreamCert(env.dataDir);
  const docs = h2Docs(env.dataDir, SMALL, BIG);
  const origin = await nghttpd(paths.nghttpd, docs, cert);
  const n = env.quick ? 20_000 : 100_000;
  const load = ['-c', '4', '-m', '20', '-t', '1'];
  const https = `https://127.0.0.1:${origin.port}`;
  env.log(
    `  origin: nghttpd over TLS (pid ${origin.pid}), ${SMALL}-byte file; h2load -n ${n} ${load.join(' ')}; warm-up ${n / 10} first`,
  );

  /** How h2load reaches a proxy: reverse mode over TLS, or regular mode over h2c. */
  const via = (p) =>
    p.reverse
      ? { args: [], url: `https://127.0.0.1:${p.port}` }
      : { args: [`--connect-to=127.0.0.1:${p.port}`, '-H', ':scheme: https'], url: `http://127.0.0.1:${origin.port}` };

  const small = async (label, pids, args, url, count) => {
    await h2load(paths.h2load, ['-n', String(Math.max(1000, count / 10)), ...load, ...args], `${url}/f`);
    const backgroundBusy = await env.background(label);
    const { result, cpu, cpuSplit } = await withCpu(pids, () =>
      h2load(paths.h2load, ['-n', String(count), ...load, ...args], `${url}/f`),
    );
    return {
      ...result,
      n: count,
      backgroundBusy,
      cpu: cpu[pids[0]],
      system: cpu.system,
      cpuPerStream: perUnit(cpuSplit[pids[0]], count),
    };
  };
  const download = async (label, pids, args, url) => {
    const backgroundBusy = await env.background(label);
    const { result, cpu } = await withCpu(pids, () =>
      h2load(paths.h2load, ['-n', '1', '-c', '1', '-m', '1', '-w', '30', '-W', '30', ...args], `${url}/big`),
    );
    return { mbPerSec: BIG / 1e6 / result.seconds, seconds: result.seconds, backgroundBusy, cpu: cpu[pids[0]] };
  };

  const res = { small: {}, download: {}, mitmtsPath: null };
  try {
    res.small.direct = await small('direct h2load', [origin.pid], [], https, n);
    const relay = await tlsRelay(origin.port, cert);
    try {
      res.download.floor = await download('the TLS relay download', [relay.pid], [], `https://127.0.0.1:${relay.port}`);
    } finally {
      await relay.child.stop();
    }
    res.download.direct = await download('the direct download', [origin.pid], [], https);
    for (const kind of env.proxies) {
      const count = kind === 'mitmdump' ? Math.max(2000, n / 20) : n;
      const p = await startH2Proxy(env, kind, origin.port, []);
      if (kind === 'mitmts')
        res.mitmtsPath = p.reverse
          ? 'reverse mode, TLS on both legs'
          : 'regular mode, cleartext HTTP/2 to the proxy (reverse mode not in this build), TLS to the origin';
      try {
        const v = via(p);
        res.small[kind] = await small(`${kind} h2load`, [p.pid, origin.pid], v.args, v.url, count);
      } finally {
        await env.stopProxy(p, 'f');
      }
      const d = await startH2Proxy(env, kind, origin.port, ['stream_large_bodies=1m'], { profile: false });
      try {
        const v = via(d);
        const before = memOf(d.pid);
        res.download[kind] = {
          ...(await download(`the ${kind} download`, [d.pid], v.args, v.url)),
          rssBefore: before?.rss ?? null,
          peakRss: memOf(d.pid)?.hwm ?? null,
        };
      } finally {
        await env.stopProxy(d, 'f');
      }
    }
  } finally {
    await origin.child.stop();
  }
  report(env, res);
  return res;
}

/** A proxy in front of the origin: reverse mode if it has it, else (mitmts) regular mode. */
async function startH2Proxy(env, kind, originPort, sets, opts = {}) {
  const reverse = [`mode=reverse:https://127.0.0.1:${originPort}`, 'ssl_insecure=true', ...sets];
  try {
    return { ...(await env.startProxy(kind, { sets: reverse, ...opts })), reverse: true };
  } catch (err) {
    if (kind !== 'mitmts' || !/not supported/.test(err.message)) throw err;
    return { ...(await env.startProxy(kind, { sets: ['ssl_insecure=true', ...sets], ...opts })), reverse: false };
  }
}

function report(env, res) {
  const s = res.small;
  const rows = [['small streams', 'req/s', 'proxy CPU/stream (user+sys)', 'proxy CPU', 'machine busy', 'vs direct']];
  for (const k of ['direct', 'mitmts', 'mitmdump']) {
    const r = s[k];
    if (!r) continue;
    const c = r.cpuPerStream;
    rows.push([
      `${k} (${fmt(r.n)})`,
      fmt(r.rps),
      k === 'direct' || !c ? '-' : `${c.total.toFixed(1)} us (${c.user.toFixed(1)}+${c.sys.toFixed(1)})`,
      k === 'direct' ? '-' : pct(r.cpu),
      pct(r.system),
      pct(ratio(r.rps, s.direct?.rps)),
    ]);
  }
  env.log(table(rows));
  const d = res.download;
  const drows = [['64 MiB download', 'MB/s', 'seconds', 'peak RSS (VmHWM)', 'RSS before', 'vs TLS relay']];
  for (const k of ['direct', 'floor', 'mitmts', 'mitmdump']) {
    const r = d[k];
    if (!r) continue;
    drows.push([
      k === 'floor' ? 'TLS relay (floor)' : k,
      fmt(r.mbPerSec),
      r.seconds.toFixed(2),
      mib(r.peakRss ?? null),
      mib(r.rssBefore ?? null),
      pct(ratio(r.mbPerSec, d.floor?.mbPerSec)),
    ]);
  }
  env.log(table(drows));
  env.log(`  mitmts: ${res.mitmtsPath}; mitmdump: reverse mode, TLS on both legs; MB = 10^6 bytes`);
  res.ratios = {
    vsDirect: ratio(s.mitmts?.rps, s.direct?.rps),
    vsMitmdump: ratio(s.mitmts?.rps, s.mitmdump?.rps),
    downloadVsFloor: ratio(d.mitmts?.mbPerSec, d.floor?.mbPerSec),
  };
  env.log(
    `  mitmts/direct ${pct(res.ratios.vsDirect)}, mitmts/mitmdump ${times(res.ratios.vsMitmdump)}, download mitmts/TLS relay ${pct(res.ratios.downloadVsFloor)}`,
  );
}

export function summary(res) {
  const m = res.small.mitmts;
  const cpu = m?.cpuPerStream?.total;
  const d = res.download.mitmts;
  return [
    {
      scenario: 'f',
      metric: 'mitmts CPU per small HTTP/2 stream',
      value: cpu === undefined ? '-' : `${cpu.toFixed(1)} us`,
      target: '<= 50 us',
      pass: cpu <= 50,
      extra: res.mitmtsPath,
    },
    {
      scenario: 'f',
      metric: 'HTTP/2 req/s through mitmts vs direct',
      value: pct(res.ratios.vsDirect),
      target: '>= 30%',
      pass: res.ratios.vsDirect >= 0.3,
      extra: `${fmt(m?.rps)} vs ${fmt(res.small.direct?.rps)} req/s`,
    },
    {
      scenario: 'f',
      metric: 'HTTP/2 req/s through mitmts vs mitmdump',
      value: times(res.ratios.vsMitmdump),
      target: '>= 10x',
      pass: res.ratios.vsMitmdump === null ? null : res.ratios.vsMitmdump >= 10,
      extra: `mitmdump ${fmt(res.small.mitmdump?.rps)} req/s`,
    },
    {
      scenario: 'f',
      metric: '64 MiB HTTP/2 download vs TLS relay floor',
      value: pct(res.ratios.downloadVsFloor),
      target: '>= 50%',
      pass: res.ratios.downloadVsFloor >= 0.5,
      extra: `${fmt(d?.mbPerSec)} vs ${fmt(res.download.floor?.mbPerSec)} MB/s`,
    },
    {
      scenario: 'f',
      metric: 'peak RSS of mitmts during the HTTP/2 download',
      value: mib(d?.peakRss ?? null),
      target: '< 100 MiB',
      pass: d?.peakRss < 100 * 1048576,
      extra: `mitmdump ${mib(res.download.mitmdump?.peakRss ?? null)}`,
    },
  ];
}
