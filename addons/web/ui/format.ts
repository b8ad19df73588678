/** Small display helpers. */

export function size(n: number | null | undefined): string {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n}b`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}k`;
  return `${(n / 1024 / 1024).toFixed(1)}m`;
}

export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined) return '';
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  return `${s.toFixed(2)}s`;
}

export function time(ts: number | null | undefined): string {
  if (!ts) return '';
  const d = new Date(ts * 1000);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Headers as `name: value` lines (what the editor shows). */
export function headerText(h: Array<[string, string]>): string {
  return h.map(([k, v]) => `${k}: ${v}`).join('\n');
}

export function parseHeaderText(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf(':', line.startsWith(':') ? 1 : 0);
    if (i < 0) throw new Error(`Header line without a colon: ${line}`);
    out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return out;
}
