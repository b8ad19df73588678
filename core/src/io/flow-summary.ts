/**
 * `mitmts flows --summary`: counts of flows by type, host, method, status and content type.
 * Bounded (at most `top` entries per table, the rest summed under "(other)") and stable: each
 * table is a list of `[name, count]` pairs ordered by count, then name (a list, because JSON
 * objects would reorder numeric keys such as status codes).
 */
import type { AnyFlow } from '../flow/from-state.js';

export type SummaryTable = Array<[name: string, count: number]>;

export interface FlowSummary {
  flows: number;
  by_type: SummaryTable;
  by_host: SummaryTable;
  by_method: SummaryTable;
  by_status: SummaryTable;
  by_content_type: SummaryTable;
}

const OTHER = '(other)';
const NONE = '(none)';

export class SummaryCounter {
  private n = 0;
  private readonly tables = {
    by_type: new Map<string, number>(),
    by_host: new Map<string, number>(),
    by_method: new Map<string, number>(),
    by_status: new Map<string, number>(),
    by_content_type: new Map<string, number>(),
  };

  constructor(private readonly top = 50) {}

  add(f: AnyFlow): void {
    this.n++;
    const t = this.tables;
    bump(t.by_type, f.type);
    if (f.type === 'http') {
      bump(t.by_host, f.request.prettyHost);
      bump(t.by_method, f.request.method);
      const r = f.response;
      bump(t.by_status, r !== null ? String(r.statusCode) : f.error !== null ? 'error' : 'no response');
      const ct = r?.headers.get('content-type');
      bump(t.by_content_type, ct ? ct.split(';')[0]!.trim().toLowerCase() : NONE);
    } else {
      const addr = f.serverConn.address;
      bump(t.by_host, addr ? String(addr[0]) : NONE);
    }
  }

  result(): FlowSummary {
    const t = this.tables;
    return {
      flows: this.n,
      by_type: ordered(t.by_type, this.top),
      by_host: ordered(t.by_host, this.top),
      by_method: ordered(t.by_method, this.top),
      by_status: ordered(t.by_status, this.top),
      by_content_type: ordered(t.by_content_type, this.top),
    };
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function ordered(m: Map<string, number>, top: number): SummaryTable {
  const entries = [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out = entries.slice(0, top);
  const rest = entries.slice(top).reduce((s, [, v]) => s + v, 0);
  if (rest > 0) out.push([OTHER, rest]);
  return out;
}
