/**
 * The `/updates` WebSocket: the page's view (filter, sort, window) lives in the server; the page
 * asks for windows and applies the deltas it gets back.
 */
import type { ClientMessage, FlowRow, RowOp, ServerMessage, ViewDelta } from '../src/protocol.js';
import { batch } from '@preact/signals';
import { getJson } from './api.js';
import * as s from './state.js';

let ws: WebSocket | null = null;
/** The window the page last asked for (`end`: the last rows, following new ones). */
let lastWindow = { offset: 0, limit: 0, end: false };
/** Called after each applied delta with the offset before it (the table keeps rows still). */
let onDelta: (before: number, requested: number) => void = () => undefined;
/** Offset the page last asked for. */
let requested = 0;

function sendMsg(m: ClientMessage): void {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
}

export function setDeltaListener(fn: (before: number, requested: number) => void): void {
  onDelta = fn;
}

/**
 * Ask for rows [offset, offset + limit), or with `end` for the last `limit` rows, following new
 * ones (the server keeps the window at the end: the page need not ask again as rows arrive).
 */
export function requestWindow(offset: number, limit: number, end = false): void {
  offset = end ? 0 : Math.max(0, Math.floor(offset));
  if (offset === lastWindow.offset && limit === lastWindow.limit && end === lastWindow.end) return;
  lastWindow = { offset, limit, end };
  if (!end) requested = offset;
  sendWindow();
}

/** Send the window asked for last; an anchored one from where it is now (rows inserted above move it). */
function sendWindow(): void {
  const { limit, end } = lastWindow;
  sendMsg({ type: 'view/window', payload: end ? { offset: 0, limit, end } : { offset: requested, limit } });
}

/** A new filter or sort order; the window the page shows is asked for again in the new order. */
export function setView(filter: string, sort = s.sort.value): void {
  s.filterText.value = filter;
  s.sort.value = sort;
  sendMsg({ type: 'view/set', payload: { filter, sort } });
  if (lastWindow.limit) sendWindow();
}

function applyOps(list: FlowRow[], ops: RowOp[]): FlowRow[] {
  const removed = new Set<string>();
  for (const op of ops) if (op[0] === 'r') removed.add(op[1]);
  const kept = removed.size ? list.filter((r) => !removed.has(r.id)) : list.slice();
  for (const op of ops) if (op[0] === 'i') kept.splice(op[1], 0, op[2]);
  let at: Map<string, number> | null = null;
  for (const op of ops) {
    if (op[0] !== 'u') continue;
    at ??= new Map(kept.map((r, i) => [r.id, i]));
    const i = at.get(op[1].id);
    if (i !== undefined) kept[i] = op[1];
  }
  return kept;
}

function applyDelta(d: ViewDelta): void {
  const before = s.offset.value;
  s.rows.value = applyOps(s.rows.value, d.ops);
  s.offset.value = d.offset;
  s.count.value = d.count;
  s.total.value = d.total;
  onDelta(before, requested);
  requested = d.offset;
}

/** Deltas received and not applied yet. */
let pendingDeltas: ViewDelta[] = [];
/** A task of its own for applying them (a message port's: it runs in hidden tabs too). */
const applyTask = new MessageChannel();
applyTask.port1.onmessage = applyPending;

/**
 * Deltas are applied in a task of their own, all that are queued by then in a single batch: the
 * table rewrites its rows there, and the next frame only lays out and paints them. (Applied in
 * an animation frame callback, the JavaScript, the layout and the paint of a frame's rows made
 * one task, which on a loaded machine ran over 50 ms.)
 */
function queueDelta(d: ViewDelta): void {
  if (pendingDeltas.push(d) === 1) applyTask.port2.postMessage(null);
}

function applyPending(): void {
  const deltas = pendingDeltas;
  pendingDeltas = [];
  if (deltas.length > 0) batch(() => deltas.forEach(applyDelta));
}

function onMessage(m: ServerMessage): void {
  switch (m.type) {
    case 'view/update':
      queueDelta(m.payload);
      break;
    case 'view/filter':
      s.filterError.value = m.payload.error ?? null;
      break;
    case 'events/add':
      s.events.value = [...s.events.value.slice(-1999), m.payload];
      break;
    case 'options/update':
      s.options.value = { ...s.options.value, ...m.payload };
      break;
    case 'state/update':
      s.serverState.value = m.payload;
      break;
    default:
      break;
  }
}

export function connect(): void {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}/updates`);
  ws.onopen = () => {
    s.connected.value = true;
    s.rows.value = [];
    pendingDeltas = [];
    sendMsg({ type: 'view/set', payload: { filter: s.filterText.value, sort: s.sort.value } });
    if (lastWindow.limit) sendWindow();
  };
  ws.onmessage = (e) => onMessage(JSON.parse(e.data as string) as ServerMessage);
  ws.onclose = () => {
    s.connected.value = false;
    setTimeout(connect, 1000);
  };
  void Promise.all([
    getJson<typeof s.events.value>('/events').then((ev) => (s.events.value = ev.slice(-2000))),
    getJson<typeof s.options.value>('/options').then((o) => (s.options.value = o)),
    getJson<NonNullable<typeof s.serverState.value>>('/state').then((st) => (s.serverState.value = st)),
  ]).catch((err: Error) => (s.notice.value = err.message));
}
