/**
 * The flow table's row elements, written straight into the DOM (no virtual DOM): a fixed pool of
 * row elements (slots), each rewritten only where what it shows changed. Following the end at
 * 1,000 flows/s, a frame costs the rows that arrived, not the rows shown: a row that stays on
 * screen keeps its element and is not touched, a row that scrolls in rewrites the texts of the
 * element whose row scrolled out, and no element is created or removed (a slot without a row is
 * hidden, not unmounted; creating and removing elements costs Chromium a layout tree rebuild).
 */
import type { FlowRow } from '../src/protocol.js';
import { duration, size } from './format.js';

/** The table's columns, in order (cell class `c-<id>`). */
export const CELLS = ['n', 'method', 'url', 'status', 'type', 'size', 'time'] as const;
type Cell = (typeof CELLS)[number];

/** Class of a slot that shows no row (not a `.flow-row`: hidden, and not counted as a row). */
const FREE = 'flow-free';

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

interface Slot {
  readonly el: HTMLDivElement;
  readonly cells: Record<Cell, HTMLSpanElement>;
  /** The URL cell's text node (tags go before it). */
  readonly url: Text;
  /** What it shows (null: free). */
  look: RowLook | null;
  /** The row object it shows (rows are replaced, never changed, when their flow changes). */
  row: FlowRow | null;
  index: number;
  selected: boolean;
}

function newSlot(parent: HTMLElement): Slot {
  const el = document.createElement('div');
  el.className = FREE;
  const cells = {} as Record<Cell, HTMLSpanElement>;
  for (const c of CELLS) {
    const span = document.createElement('span');
    span.className = `c-${c}`;
    el.append(span);
    cells[c] = span;
  }
  const url = document.createTextNode('');
  cells.url.append(url);
  parent.append(el);
  return { el, cells, url, look: null, row: null, index: -1, selected: false };
}

/** Rewrite slot `s` to show `look`, touching only what changed. */
function write(s: Slot, look: RowLook): void {
  const old = s.look;
  if (old?.cls !== look.cls) s.el.className = look.cls;
  if (old?.top !== look.top) s.el.style.top = look.top;
  if (old?.id !== look.id) s.el.dataset.id = look.id;
  if (old?.statusCls !== look.statusCls) s.cells.status.className = look.statusCls;
  if (old?.title !== look.title) s.cells.url.title = look.title;
  if ((old?.tags ?? '') !== look.tags) {
    while (s.cells.url.firstChild !== s.url) s.cells.url.firstChild!.remove();
    for (const t of look.tags ? look.tags.split(' ') : []) {
      const b = document.createElement('b');
      b.className = t === '★' ? 'tag mark' : 'tag';
      b.textContent = t;
      s.cells.url.insertBefore(b, s.url);
    }
  }
  for (const c of CELLS) {
    const text = look.text[c];
    if (old?.text[c] === text) continue;
    if (c === 'url') s.url.data = text;
    else s.cells[c].textContent = text;
  }
  s.look = look;
}

/** The row elements of one table body. */
export class RowPool {
  private slots: Slot[] = [];

  constructor(private readonly parent: HTMLElement) {}

  /**
   * Show the rows at list positions [first, first + slots) of the window `rows` (starting at
   * list position `offset`). Returns the rows that were not on screen before, and how many
   * elements were rewritten.
   */
  paint(
    rows: readonly FlowRow[],
    offset: number,
    first: number,
    slots: number,
    selected: string | null,
    rowHeight: number,
  ): { shown: FlowRow[]; written: number } {
    while (this.slots.length < slots) this.slots.push(newSlot(this.parent));
    while (this.slots.length > slots) this.slots.pop()!.el.remove();
    const shown: FlowRow[] = [];
    let written = 0;
    const plan = assignSlots(rows, offset, first, slots);
    for (let i = 0; i < slots; i++) {
      const s = this.slots[i]!;
      const p = plan[i]!;
      if (p === null) {
        if (s.look !== null) {
          s.el.className = FREE;
          written++;
          s.look = null;
          s.row = null;
        }
        continue;
      }
      const isSel = p.row.id === selected;
      if (s.row === p.row && s.index === p.index && s.selected === isSel) continue;
      if (s.row?.id !== p.row.id) shown.push(p.row);
      write(s, rowLook(p.row, p.index, selected, rowHeight));
      written++;
      s.row = p.row;
      s.index = p.index;
      s.selected = isSel;
    }
    return { shown, written };
  }
}
