/**
 * The virtual flow table: a spacer as tall as all matching rows, and only the rows of the
 * server's window in the DOM, absolutely placed. Scrolling asks the server for the window
 * around the visible rows; at the bottom the table follows new flows.
 */
import { effect, signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { FlowRow, SortColumn } from '../src/protocol.js';
import { requestWindow, setDeltaListener, setView } from './conn.js';
import { RowPool } from './rows.js';
import * as s from './state.js';

const H = s.ROW_HEIGHT;

const COLUMNS: Array<{ id: string; title: string; sort: SortColumn | null }> = [
  { id: 'n', title: '#', sort: 'seq' },
  { id: 'method', title: 'Method', sort: 'method' },
  { id: 'url', title: 'URL', sort: 'url' },
  { id: 'status', title: 'Status', sort: 'status' },
  { id: 'type', title: 'Type', sort: null },
  { id: 'size', title: 'Size', sort: 'size' },
  { id: 'time', title: 'Time', sort: 'duration' },
];

/**
 * Milliseconds of the page's time one task may spend rewriting and laying out rows; what is
 * left goes on in the next task. JavaScript, layout and paint of a frame's rows in one task took
 * 20-30 ms of CPU and ran over 50 ms (a long task) on a loaded 2-core machine.
 */
const BUDGET_MS = 8;
/** Rows a task rewrites however slow the last ones were (the table always moves on). */
const MIN_ROWS_PER_TASK = 4;

/**
 * Row elements for a viewport `height` pixels tall: the visible rows and a few more, an even
 * number (a row keeps its odd/even class in the element it moves to: no style change).
 */
function slotsFor(height: number): number {
  const n = Math.ceil(height / H) + 6;
  return n + (n % 2);
}

/** Latencies from the response to the row on screen (read by the benchmark). */
declare global {
  interface Window {
    __mitmtsRowLatency?: number[];
    /** Only rows whose response came after this time (ms since the epoch) are measured. */
    __mitmtsLatencySince?: number;
  }
}

/**
 * With the benchmark's probe set: for rows first shown now, the time from their response to the
 * next animation frame (the frame that paints them).
 */
function measureLatency(shown: readonly FlowRow[], seen: Set<string>): void {
  const win = window.__mitmtsRowLatency;
  if (!win || shown.length === 0) return;
  const since = window.__mitmtsLatencySince ?? 0;
  const ends: number[] = [];
  for (const r of shown) {
    if (r.response_end && r.response_end * 1000 >= since && !seen.has(r.id)) {
      seen.add(r.id);
      ends.push(r.response_end * 1000);
    }
  }
  if (ends.length)
    requestAnimationFrame(() => {
      const now = Date.now();
      for (const t of ends) win.push(now - t);
    });
}

export function FlowTable() {
  const scroller = useRef<HTMLDivElement>(null);
  const spacer = useRef<HTMLDivElement>(null);
  const rowsEl = useRef<HTMLDivElement>(null);
  const follow = useRef(true);

  // Ask for the window around what is visible, with a screen of margin on each side; at the
  // bottom, the last rows (the server keeps that window at the end as flows arrive).
  const ask = (top: number, height: number): void => {
    const n = Math.ceil(height / H) + 1;
    if (follow.current) requestWindow(0, 2 * n, true);
    else requestWindow(Math.floor(top / H) - n, 3 * n);
  };

  // The body (spacer, scroll position, rows) is written by an effect, not rendered: a delta
  // changes the signals it reads, and it rewrites only what changed, in the task that applied
  // the delta, within a time budget: what is left goes on in a task of its own (the frame that
  // follows only paints).
  useEffect(() => {
    const el = scroller.current!;
    const pool = new RowPool(rowsEl.current!);
    const viewport = signal({ top: el.scrollTop, height: el.clientHeight });
    const seen = new Set<string>();
    const rest = new MessageChannel();
    let restQueued = false;
    let shownCount = -1;
    let scrolledTo = -1;
    /** Milliseconds per rewritten row element (its writes and layout), measured. */
    let msPerRow = 0.5;
    const paint = (): void => {
      const t0 = performance.now();
      const count = s.count.value;
      const { height } = viewport.value;
      // The spacer first, then the scroll position (a write that lays out what changed so far:
      // only the spacer), then the rows.
      if (count !== shownCount) {
        shownCount = count;
        spacer.current!.style.height = `${count * H}px`;
        spacer.current!.dataset.count = String(count);
      }
      let top = viewport.value.top;
      if (follow.current) {
        // The end, computed (reading scrollHeight would lay out the rows written last time).
        top = Math.max(0, count * H - height);
        if (top !== scrolledTo) el.scrollTop = scrolledTo = top;
      }
      const { shown, written, done } = pool.paint(
        s.rows.value,
        s.offset.value,
        Math.floor(top / H) - 2,
        slotsFor(height),
        s.selectedId.value,
        H,
        Math.max(MIN_ROWS_PER_TASK, Math.floor(BUDGET_MS / msPerRow)),
      );
      if (written > 0) {
        // Lay the rows out now, in this task: the next frame then only paints.
        void el.scrollHeight;
        msPerRow = 0.7 * msPerRow + (0.3 * (performance.now() - t0)) / written;
      }
      measureLatency(shown, seen);
      if (!done && !restQueued) {
        restQueued = true;
        rest.port2.postMessage(null);
      }
    };
    rest.port1.onmessage = () => {
      restQueued = false;
      paint();
    };
    const stop = effect(paint);
    const onViewport = (): void => {
      viewport.value = { top: el.scrollTop, height: el.clientHeight };
      ask(el.scrollTop, el.clientHeight);
    };
    const ro = new ResizeObserver(onViewport);
    ro.observe(el);
    onScrollRef.current = () => {
      const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - H;
      // Following the end (this table's own scroll as rows arrive): the rows shown follow the
      // count, the window is the server's end. Nothing to paint or ask for.
      if (atEnd && follow.current) return;
      follow.current = atEnd;
      scrolledTo = -1;
      onViewport();
    };
    setDeltaListener((before, requested) => {
      // Rows inserted above an anchored window move it down: keep the same rows on screen.
      const shift = s.offset.value - requested;
      if (!follow.current && shift !== 0 && before !== 0 && s.offset.value !== 0) {
        el.scrollTop += shift * H;
        viewport.value = { top: el.scrollTop, height: viewport.value.height };
      }
    });
    return () => {
      rest.port1.close();
      stop();
      ro.disconnect();
    };
  }, []);
  const onScrollRef = useRef<() => void>(() => undefined);

  const onSort = (c: SortColumn | null): void => {
    if (!c) return;
    const cur = s.sort.value;
    setView(s.filterText.value, { column: c, desc: cur.column === c ? !cur.desc : false });
  };
  const onMouseDown = (e: MouseEvent): void => {
    const id = (e.target as Element).closest<HTMLElement>('.flow-row')?.dataset.id;
    if (id) s.selectedId.value = id;
  };

  const sortCol = s.sort.value;
  return (
    <div class="table">
      <div class="thead">
        {COLUMNS.map((c) => (
          <span class={`c-${c.id} ${c.sort ? 'sortable' : ''}`} onClick={() => onSort(c.sort)}>
            {c.title}
            {sortCol.column === c.sort ? (sortCol.desc ? ' ▼' : ' ▲') : ''}
          </span>
        ))}
      </div>
      <div class="tbody" ref={scroller} onScroll={() => onScrollRef.current()} tabIndex={0}>
        <div class="spacer" ref={spacer} data-count="0" />
        <div class="rows" ref={rowsEl} onMouseDown={onMouseDown} />
      </div>
    </div>
  );
}
