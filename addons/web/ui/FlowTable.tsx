/**
 * The virtual flow table: a spacer as tall as all matching rows, and only the rows of the
 * server's window in the DOM, absolutely placed. Scrolling asks the server for the window
 * around the visible rows; at the bottom the table follows new flows.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { FlowRow, SortColumn } from '../src/protocol.js';
import { requestWindow, setDeltaListener, setView } from './conn.js';
import { duration, size } from './format.js';
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

function statusClass(r: FlowRow): string {
  if (r.error) return 'err';
  if (r.status === null) return '';
  return r.status >= 500 ? 's5' : r.status >= 400 ? 's4' : r.status >= 300 ? 's3' : 's2';
}

function Row({ r, index }: { r: FlowRow; index: number }) {
  const cls = [
    'flow-row',
    r.id === s.selectedId.value ? 'sel' : '',
    r.intercepted ? 'held' : '',
    r.marked ? 'marked' : '',
    index % 2 ? 'odd' : '',
  ].join(' ');
  return (
    <div class={cls} style={{ top: `${index * H}px` }} data-id={r.id} onMouseDown={() => (s.selectedId.value = r.id)}>
      <span class="c-n">{index + 1}</span>
      <span class="c-method">{r.method}</span>
      <span class="c-url" title={r.url}>
        {r.intercepted ? <b class="tag">held</b> : null}
        {r.is_replay ? <b class="tag">replay</b> : null}
        {r.websocket ? <b class="tag">ws</b> : null}
        {r.marked ? <b class="tag mark">★</b> : null}
        {r.url}
      </span>
      <span class={`c-status ${statusClass(r)}`}>{r.error ? 'error' : (r.status ?? '')}</span>
      <span class="c-type">{r.content_type ?? ''}</span>
      <span class="c-size">{size(r.size)}</span>
      <span class="c-time">{duration(r.duration)}</span>
    </div>
  );
}

/** Latencies from the response to the row on screen (read by the benchmark). */
declare global {
  interface Window {
    __mitmtsRowLatency?: number[];
    /** Only rows whose response came after this time (ms since the epoch) are measured. */
    __mitmtsLatencySince?: number;
  }
}

export function FlowTable() {
  const scroller = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState({ top: 0, height: 600 });
  const follow = useRef(true);
  const seen = useRef(new Set<string>());

  const visibleRows = Math.ceil(viewport.height / H) + 1;

  // Ask for the window around what is visible, with a screen of margin on each side; at the
  // bottom, the last rows (the server keeps that window at the end as flows arrive).
  const ask = (top: number, height: number): void => {
    const n = Math.ceil(height / H) + 1;
    if (follow.current) requestWindow(0, 2 * n, true);
    else requestWindow(Math.floor(top / H) - n, 3 * n);
  };

  useEffect(() => {
    const el = scroller.current!;
    const measure = (): void => setViewport({ top: el.scrollTop, height: el.clientHeight });
    measure();
    ask(el.scrollTop, el.clientHeight);
    const ro = new ResizeObserver(() => {
      measure();
      ask(el.scrollTop, el.clientHeight);
    });
    ro.observe(el);
    setDeltaListener((before, requested) => {
      // Rows inserted above an anchored window move it down: keep the same rows on screen.
      const shift = s.offset.value - requested;
      if (!follow.current && shift !== 0 && before !== 0 && s.offset.value !== 0) el.scrollTop += shift * H;
    });
    return () => ro.disconnect();
  }, []);

  // Follow the end while the user is at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current!;
    // The end, computed (reading scrollHeight would force a layout of its own).
    if (follow.current) el.scrollTop = Math.max(0, s.count.value * H - viewport.height);
    const win = window.__mitmtsRowLatency;
    if (win) {
      const now = Date.now();
      const since = window.__mitmtsLatencySince ?? 0;
      for (const r of s.rows.value) {
        if (r.response_end && r.response_end * 1000 >= since && !seen.current.has(r.id)) {
          seen.current.add(r.id);
          win.push(now - r.response_end * 1000);
        }
      }
    }
  });

  const onScroll = (): void => {
    const el = scroller.current!;
    const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - H;
    // Following the end (this table's own scroll as rows arrive): the rows shown follow the
    // count, the window is the server's end. Nothing to render or ask for.
    if (atEnd && follow.current) return;
    follow.current = atEnd;
    setViewport({ top: el.scrollTop, height: el.clientHeight });
    ask(el.scrollTop, el.clientHeight);
  };

  const onSort = (c: SortColumn | null): void => {
    if (!c) return;
    const cur = s.sort.value;
    setView(s.filterText.value, { column: c, desc: cur.column === c ? !cur.desc : false });
  };

  const off = s.offset.value;
  // Following the end: the rows of the end, in this render (the scroll event comes a frame later).
  const top = follow.current ? Math.max(0, s.count.value * H - viewport.height) : viewport.top;
  const first = Math.floor(top / H) - 2;
  // Row elements are reused: the row at position i goes into slot i % slots, and the slots are
  // rendered in their own order, so a row that scrolls out hands its element (spans, text nodes)
  // to the one that scrolls in, which only changes their text and its top. Following the end
  // at 1,000 flows/s replaces most rows every frame: creating them costs twice as much as
  // rewriting them (style, layout tree, paint).
  const slots = visibleRows + 5;
  const shown: Array<[FlowRow, number]> = [];
  s.rows.value.forEach((r, i) => {
    if (off + i >= first && off + i < first + slots) shown.push([r, off + i]);
  });
  shown.sort((a, b) => (a[1] % slots) - (b[1] % slots));
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
      <div class="tbody" ref={scroller} onScroll={onScroll} tabIndex={0}>
        <div class="spacer" style={{ height: `${s.count.value * H}px` }} data-count={s.count.value} />
        <div class="rows">
          {shown.map(([r, index]) => (
            <Row key={index % slots} r={r} index={index} />
          ))}
        </div>
      </div>
    </div>
  );
}
