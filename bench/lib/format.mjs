// Printing: aligned tables, numbers, ratios.

export function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ms(n) {
  if (n === null || n === undefined) return '-';
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`;
}

export function us(n) {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(0)} µs`;
}

/** CPU time per unit with its user/kernel split: `56 µs (35+21)`. */
export function usSplit(x) {
  if (!x || x.total === null || x.total === undefined) return '-';
  return `${x.total.toFixed(0)} µs (${x.user.toFixed(0)}+${x.sys.toFixed(0)})`;
}

export function mib(bytes) {
  return bytes === null || bytes === undefined ? '-' : `${(bytes / 1048576).toFixed(1)} MiB`;
}

export function pct(x) {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`;
}

export function times(x) {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`;
}

export function ratio(a, b) {
  return a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;
}

/** Rows of cells (strings) as an aligned table, first row the header. */
export function table(rows, indent = '  ') {
  const widths = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  const line = (r) =>
    indent + r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(rows[0]), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The per-round values of a repeated measurement (`--repeat`), or '' for one round. */
export function rounds(r) {
  return r?.rounds && r.rounds.length > 1 ? r.rounds.map((x) => fmt(x)).join(' / ') : '';
}

/**
 * Ratios of a throughput scenario's results (`{ direct, mitmts, mitmdump }` with `rps` and
 * `cpuUsPerRequest`): req/s against each other, CPU per request against the origin's.
 */
export function throughputRatios(res) {
  return {
    mitmtsVsDirect: ratio(res.mitmts?.rps, res.direct?.rps),
    mitmtsVsMitmdump: ratio(res.mitmts?.rps, res.mitmdump?.rps),
    mitmdumpVsDirect: ratio(res.mitmdump?.rps, res.direct?.rps),
    mitmtsCpuPerRequestVsOrigin: ratio(
      res.mitmts?.cpuUsPerRequest?.proxy?.total,
      res.direct?.cpuUsPerRequest?.upstream?.total,
    ),
    mitmdumpCpuPerRequestVsMitmts: ratio(
      res.mitmdump?.cpuUsPerRequest?.proxy?.total,
      res.mitmts?.cpuUsPerRequest?.proxy?.total,
    ),
    mitmtsVsDirectPaired: pairedRatio(res.mitmts, res.direct),
  };
}

/**
 * With --repeat: the median of the per-round ratios a/b. Each round measures every target back
 * to back, so a round's ratio cancels load that drifts between rounds; shown beside the
 * ratio of the per-target medians (which decides PASS/MISS), never instead of it. Null
 * without rounds.
 */
export function pairedRatio(a, b) {
  const ra = a?.rounds;
  const rb = b?.rounds;
  if (!ra || !rb || ra.length < 2 || ra.length !== rb.length) return null;
  const rs = ra
    .map((x, i) => ratio(x, rb[i]))
    .filter((x) => x !== null)
    .sort((x, y) => x - y);
  return rs.length ? rs[Math.floor((rs.length - 1) / 2)] : null;
}

/** `" (paired per-round median 51.0%)"` for a throughput result with rounds, else `""`. */
export function pairedNote(res) {
  const p = res.ratios?.mitmtsVsDirectPaired;
  return p === null || p === undefined ? '' : ` (paired per-round median ${pct(p)})`;
}
