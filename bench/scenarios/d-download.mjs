// (d) One large streamed download over plain HTTP (1 GiB; 256 MiB with --quick): MB/s through
// each proxy with stream_large_bodies=1m, and direct; peak RSS (VmHWM) of the proxy process.
import { fmt, mib, pct, ratio, rounds, table, times } from '../lib/format.mjs';
import { memOf, perUnit, withCpu } from '../lib/sys.mjs';

export const title = '(d) Large streamed download (stream_large_bodies=1m)';

export async function run(env) {
  const up = env.upstream;
  const bytes = env.downloadBytes;
  const authority = `127.0.0.1:${up.http}`;
  const path = `/big?bytes=${bytes}`;
  env.log(`  ${mib(bytes)} body over HTTP/1.1 (Content-Length), one connection; MB = 10^6 bytes`);
  const download = async (proxy, pids) => {
    const request = `GET ${proxy === null ? path : `http://${authority}${path}`} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
    const backgroundBusy = await env.background(proxy === null ? 'the direct download' : 'the proxied download');
    const { result, cpu, cpuSplit } = await withCpu(pids, () =>
      env.loadgen(
        {
          mode: 'download',
          proxy,
          target: { host: '127.0.0.1', port: up.http },
          tls: null,
          request,
          timeoutMs: 600_000,
        },
        660_000,
      ),
    );
    if (result.status !== 200 || result.bytes !== bytes)
      throw new Error(
        `download through ${proxy === null ? 'nothing' : `port ${proxy}`}: status ${result.status}, ${result.bytes} of ${bytes} bytes`,
      );
    const perGB = (pid) => perUnit(cpuSplit[pid], bytes / 1e9, 1);
    const proxySplit = proxy === null ? null : cpuSplit[pids[0]];
    return {
      ...result,
      backgroundBusy,
      cpu: { proxy: proxy === null ? null : cpu[pids[0]], upstream: cpu[up.pid], system: cpu.system },
      cpuSecondsPerGB: { proxy: proxy === null ? null : perGB(pids[0]), upstream: perGB(up.pid) },
      // Minor page faults per MB relayed: fresh memory per read (allocation churn) shows here.
      proxyPageFaultsPerMB: proxySplit ? proxySplit.minflt / (bytes / 1e6) : null,
    };
  };
  const round = async () => {
    const r = { direct: await download(null, [up.pid]) };
    for (const kind of env.proxies) {
      const p = await env.startProxy(kind, { sets: ['stream_large_bodies=1m'] });
      try {
        const before = memOf(p.pid);
        const d = await download(p.port, [p.pid, up.pid]);
        const after = memOf(p.pid);
        r[kind] = {
          ...d,
          rssBeforeBytes: before?.rss ?? null,
          peakRssBytes: after?.hwm ?? null,
          rssAfterBytes: after?.rss ?? null,
        };
      } finally {
        await env.stopProxy(p, 'd');
      }
    }
    return r;
  };
  const res = { bytes, ...(await env.repeated(round, (r) => r.mbPerSec)) };
  report(env, res);
  return res;
}

function report(env, res) {
  const rows = [
    [
      '',
      'MB/s',
      'seconds',
      'first byte',
      'proxy RSS before',
      'peak RSS (VmHWM)',
      'proxy CPU',
      'upstream CPU',
      'machine busy',
      'proxy CPU s/GB (user+sys)',
      'page faults/MB',
      'vs direct',
      'rounds',
    ],
  ];
  for (const k of ['direct', ...env.proxies]) {
    const r = res[k];
    if (!r) continue;
    rows.push([
      k,
      fmt(r.mbPerSec),
      r.seconds.toFixed(2),
      `${r.ttfbMs.toFixed(1)} ms`,
      mib(r.rssBeforeBytes),
      mib(r.peakRssBytes),
      pct(r.cpu.proxy),
      pct(r.cpu.upstream),
      pct(r.cpu.system),
      r.cpuSecondsPerGB.proxy === null
        ? '-'
        : `${r.cpuSecondsPerGB.proxy.total.toFixed(2)} (${r.cpuSecondsPerGB.proxy.user.toFixed(2)}+${r.cpuSecondsPerGB.proxy.sys.toFixed(2)})`,
      r.proxyPageFaultsPerMB === null ? '-' : r.proxyPageFaultsPerMB.toFixed(1),
      pct(ratio(r.mbPerSec, res.direct.mbPerSec)),
      rounds(r),
    ]);
  }
  env.log(table(rows));
  res.ratios = {
    mitmtsVsDirect: ratio(res.mitmts?.mbPerSec, res.direct?.mbPerSec),
    mitmtsVsMitmdump: ratio(res.mitmts?.mbPerSec, res.mitmdump?.mbPerSec),
  };
  env.log(
    `  mitmts/direct ${pct(res.ratios.mitmtsVsDirect)}, mitmts/mitmdump ${times(res.ratios.mitmtsVsMitmdump)}; CPU s/GB: proxy CPU seconds per 10^9 bytes relayed`,
  );
}

export function summary(res) {
  const m = res.mitmts;
  return [
    {
      scenario: 'd',
      metric: `streamed download through mitmts (${mib(res.bytes)})`,
      value: `${fmt(m?.mbPerSec)} MB/s`,
      target: '>= 1,000 MB/s',
      pass: m?.mbPerSec >= 1000,
      extra: `direct ${fmt(res.direct?.mbPerSec)}, mitmdump ${fmt(res.mitmdump?.mbPerSec)} MB/s`,
    },
    {
      scenario: 'd',
      metric: 'peak RSS of mitmts during the download',
      value: mib(m?.peakRssBytes),
      target: '< 100 MiB',
      pass: m?.peakRssBytes < 100 * 1048576,
      extra: `mitmdump ${mib(res.mitmdump?.peakRssBytes)}`,
    },
  ];
}
