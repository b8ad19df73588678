/**
 * The flow table's row elements, written straight into the DOM (no virtual DOM): a fixed pool of
 * row elements (slots), each rewritten only where what it shows changed. Following the end at
 * 1,000 flows/s, a frame costs the rows that arrived, not the rows shown: a row that stays on
 * screen keeps its element and is not touched, a row that scrolls in rewrites the texts of the
 * element whose row scrolled out, and no row element is created or removed (a slot without a row is
 * hidden, not unmounted; creating and removing elements costs Chromium a layout tree rebuild).
 */
import type { FlowRow } from '../src/protocol.js';
import { assignSlots, CELLS, type Cell, type RowLook, rowLook } from './rowlook.js';

/** Class of a slot that shows no row (not a `.flow-row`: hidden, and not counted as a row). */
const FREE = 'flow-free';

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
  if (old === null || old.tags !== look.tags) {
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
   * list position `offset`), rewriting at most `maxWrites` elements, the last positions first
   * (following the end, the newest rows). With `done` false some elements still show what they
   * showed before: paint again (the same or a newer state) to go on; each call rewrites only
   * what still differs, so calls until `done` leave the elements as one call without a limit.
   * Returns the rows that were not on screen before and how many elements were rewritten.
   */
  paint(
    rows: readonly FlowRow[],
    offset: number,
    first: number,
    slots: number,
    selected: string | null,
    rowHeight: number,
    maxWrites = Infinity,
  ): { shown: FlowRow[]; written: number; done: boolean } {
    while (this.slots.length < slots) this.slots.push(newSlot(this.parent));
    while (this.slots.length > slots) this.slots.pop()!.el.remove();
    const shown: FlowRow[] = [];
    let written = 0;
    const plan = assignSlots(rows, offset, first, slots);
    for (let k = slots - 1; k >= 0; k--) {
      const i = (((first + k) % slots) + slots) % slots;
      const s = this.slots[i]!;
      const p = plan[i]!;
      if (
        p === null ? s.look === null : s.row === p.row && s.index === p.index && s.selected === (p.row.id === selected)
      )
        continue;
      if (written === maxWrites) return { shown, written, done: false };
      written++;
      if (p === null) {
        s.el.className = FREE;
        s.look = null;
        s.row = null;
        continue;
      }
      if (s.row?.id !== p.row.id) shown.push(p.row);
      write(s, rowLook(p.row, p.index, selected, rowHeight));
      s.row = p.row;
      s.index = p.index;
      s.selected = p.row.id === selected;
    }
    return { shown, written, done: true };
  }
}
