/**
 * What the flow table's row elements show, and which row goes into which element: the pure
 * part of the row pool (`rows.ts`), without the DOM (unit-tested in node).
 */
import type { FlowRow } from '../src/protocol.js';
import { duration, size } from './format.js';

/** The table's columns, in order (cell class `c-<id>`). */
export const CELLS = ['n', 'method', 'url', 'status', 'type', 'size', 'time'] as const;
export type Cell = (typeof CELLS)[number];

/** What one row element shows: compared field by field with what it showed before. */
export interface RowLook {
  id: string;
  cls: string;
  top: string;
  /** The URL cell's tags (`held`, `replay`, `ws`, `★`), joined by spaces. */
  tags: string;
  statusCls: string;
  text: Record<Cell, string>;
  /** The URL (the URL cell's title). */
  title: string;
}

function statusClass(r: FlowRow): string {
  if (r.error) return 'err';
  if (r.status === null) return '';
  return r.status >= 500 ? 's5' : r.status >= 400 ? 's4' : r.status >= 300 ? 's3' : 's2';
}

/** What row `r` at list position `index` shows (`selected`: the selected flow's id). */
export function rowLook(r: FlowRow, index: number, selected: string | null, rowHeight: number): RowLook {
  const cls = ['flow-row'];
  if (r.id === selected) cls.push('sel');
  if (r.intercepted) cls.push('held');
  if (r.marked) cls.push('marked');
  if (index % 2) cls.push('odd');
  const tags: string[] = [];
  if (r.intercepted) tags.push('held');
  if (r.is_replay) tags.push('replay');
  if (r.websocket) tags.push('ws');
  if (r.marked) tags.push('★');
  return {
    id: r.id,
    cls: cls.join(' '),
    top: `${index * rowHeight}px`,
    tags: tags.join(' '),
    statusCls: `c-status ${statusClass(r)}`,
    title: r.url,
    text: {
      n: String(index + 1),
      method: r.method,
      url: r.url,
      status: r.error ? 'error' : r.status === null ? '' : String(r.status),
      type: r.content_type ?? '',
      size: size(r.size),
      time: duration(r.duration),
    },
  };
}

/**
 * Which rows go into which slot: the rows at list positions [first, first + slots) that the
 * window (`rows`, starting at list position `offset`) holds, the row at position i in slot
 * i % slots (so a row keeps its element while it stays on screen). Free slots are null.
 */
export function assignSlots(
  rows: readonly FlowRow[],
  offset: number,
  first: number,
  slots: number,
): Array<{ row: FlowRow; index: number } | null> {
  const out: Array<{ row: FlowRow; index: number } | null> = new Array<null>(slots).fill(null);
  const from = Math.max(first, offset);
  const to = Math.min(first + slots, offset + rows.length);
  for (let index = from; index < to; index++) out[index % slots] = { row: rows[index - offset]!, index };
  return out;
}
