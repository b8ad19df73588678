/**
 * The `/updates` WebSocket: flow changes are collected and sent in batches, at most one per
 * frame interval, so 1,000 flows/s cost a few dozen messages per second per page. A page that
 * sends `view/set` gets deltas of its own window (`view/update`); any other client gets
 * mitmweb's `flows/add|update|remove` messages (one per changed flow per batch). Clients that
 * do not read are dropped once their unsent data passes a bound: the proxy never buffers
 * without limit for a stuck browser.
 */
import { type Filter, type Flow, type Logger, parseFilter } from '@mitmts/sdk';
import type { WebSocket } from 'ws';
import type { FlowBackend, FlowEntry } from './backend.js';
import { flowJson, flowRow } from './flow-json.js';
import type { ClientMessage, ServerMessage, SortSpecJson, WebEvent, WebFlow } from './protocol.js';
import { FlowView } from './view.js';

export interface HubOptions {
  readonly log: Logger;
  /** Unsent bytes after which a client is dropped. */
  readonly maxBuffered: number;
  /** Longest wait before a batch of flow changes goes out (ms). */
  readonly frameMs: number;
}

interface UiClient {
  readonly ws: WebSocket;
  view: FlowView | null;
  /** mitmweb's named filters (`flows/updateFilter`), evaluated for its `flows/add|update`. */
  readonly filters: Map<string, Filter | null>;
  /** The page asked for something: answer in the next batch even if no flow changed. */
  dirty: boolean;
}

export class UpdateHub {
  private readonly clients = new Set<UiClient>();
  private readonly versions = new WeakMap<Flow, number>();
  /** Flows announced with `flows/add` (to mitmweb-style clients). */
  private readonly announced = new WeakSet<Flow>();
  /** Deleted flows: hooks that still fire for them (a killed flow's error) must not bring them back. */
  private readonly forgotten = new WeakSet<Flow>();
  private readonly changed = new Map<Flow, 'add' | 'update'>();
  private readonly removed: string[] = [];
  private reset = false;
  private timer: NodeJS.Timeout | null = null;
  /** The batch being sent, and whether another was asked for meanwhile. */
  private flushing: Promise<void> | null = null;
  private again = false;
  private immediate: NodeJS.Immediate | null = null;
  private version = 0;
  /** When the last batch started (performance.now()). */
  private lastBatch = -Infinity;
  /** Unsent bytes after which a client is dropped. */
  maxBuffered: number;

  constructor(
    private backend: FlowBackend,
    private readonly opts: HubOptions,
  ) {
    this.maxBuffered = opts.maxBuffered;
  }

  get size(): number {
    return this.clients.size;
  }

  /** The current version of a flow (changes whenever the flow is touched). */
  versionOf(flow: Flow): number {
    return this.versions.get(flow) ?? 0;
  }

  /** Read `backend` from now on: every page's view moves to it and gets its window again. */
  useBackend(backend: FlowBackend): void {
    this.backend = backend;
    for (const c of this.clients) {
      if (c.view === null) continue;
      c.view.moveTo(backend);
      c.dirty = true;
    }
    this.scheduleSoon();
  }

  /** A flow was added or changed (a deleted flow that is still live stays deleted). */
  touched(flow: Flow): void {
    if (this.forgotten.has(flow)) return;
    this.versions.set(flow, ++this.version);
    this.backend.put(flow);
    if (!this.announced.has(flow)) {
      this.announced.add(flow);
      this.changed.set(flow, 'add');
    } else if (!this.changed.has(flow)) this.changed.set(flow, 'update');
    this.schedule();
  }

  /** A flow was deleted (call after removing it from the backend). */
  deleted(flow: Flow): void {
    this.forgotten.add(flow);
    this.changed.delete(flow);
    this.removed.push(flow.id);
    this.schedule();
  }

  /** Every flow was deleted: `flows` are the ones the backend had. */
  cleared(flows: Iterable<Flow>): void {
    for (const f of flows) this.forgotten.add(f);
    this.reset = true;
    this.changed.clear();
    this.removed.length = 0;
    this.schedule();
  }

  attach(ws: WebSocket): void {
    const client: UiClient = { ws, view: null, filters: new Map(), dirty: false };
    this.clients.add(client);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      this.onMessage(client, data.toString('utf8'));
    });
    ws.on('close', () => this.detach(client));
    ws.on('error', () => this.detach(client));
  }

  /** Send to every client now (options, state, events). */
  broadcast(msg: ServerMessage): void {
    if (this.clients.size === 0) return;
    const data = JSON.stringify(msg);
    for (const c of this.clients) this.send(c, data);
  }

  event(e: WebEvent): void {
    this.broadcast({ type: 'events/add', payload: e });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    for (const c of [...this.clients]) {
      c.ws.terminate();
      this.detach(c);
    }
  }

  /**
   * Send what changed since the last batch. Views read the backend asynchronously: one batch
   * goes out at a time. A call while one is being sent asks for another right after it; the
   * promise resolves when the batch being sent (this one, or the one in progress) is out.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    const run = this.sendBatch().catch((err: unknown) =>
      this.opts.log.warn(`Web UI update failed: ${(err as Error).message}`),
    );
    this.flushing = run.finally(() => {
      this.flushing = null;
      if (this.again) {
        this.again = false;
        void this.flush();
      }
    });
    return this.flushing;
  }

  private async sendBatch(): Promise<void> {
    this.lastBatch = performance.now();
    this.backend.sync();
    // mitmweb-style clients: each changed flow's JSON once, its `matching_filters` per client.
    const legacy: Array<{ flow: Flow; type: 'flows/add' | 'flows/update'; json: WebFlow }> = [];
    if (this.hasLegacy()) {
      for (const [flow, kind] of this.changed) {
        if (this.backend.live(flow.id) !== flow) continue;
        legacy.push({ flow, type: kind === 'add' ? 'flows/add' : 'flows/update', json: flowJson(flow) });
      }
    }
    const reset = this.reset;
    const removed = [...this.removed];
    const anyChange = this.reset || this.changed.size > 0 || this.removed.length > 0;
    this.reset = false;
    this.changed.clear();
    this.removed.length = 0;
    const views: Array<Promise<void>> = [];
    for (const c of this.clients) {
      if (c.view === null) {
        this.sendLegacy(c, reset, legacy, removed);
        continue;
      }
      if (!anyChange && !c.dirty) continue;
      const force = c.dirty;
      c.dirty = false;
      const view = c.view;
      views.push(
        view.diff(force).then((delta) => {
          // The page may have gone, or set another view, while the backend answered.
          if (delta && c.view === view)
            this.send(c, JSON.stringify({ type: 'view/update', payload: delta } satisfies ServerMessage));
        }),
      );
    }
    await Promise.all(views);
  }

  private sendLegacy(
    c: UiClient,
    reset: boolean,
    changed: ReadonlyArray<{ flow: Flow; type: 'flows/add' | 'flows/update'; json: WebFlow }>,
    removed: readonly string[],
  ): void {
    if (reset && !this.send(c, JSON.stringify({ type: 'flows/reset', payload: null } satisfies ServerMessage))) return;
    for (const { flow, type, json } of changed) {
      const matching: Record<string, boolean> = {};
      for (const [name, f] of c.filters) matching[name] = matches(f, flow);
      if (
        !this.send(
          c,
          JSON.stringify({ type, payload: { flow: json, matching_filters: matching } } satisfies ServerMessage),
        )
      )
        return;
    }
    for (const id of removed)
      if (!this.send(c, JSON.stringify({ type: 'flows/remove', payload: id } satisfies ServerMessage))) return;
  }

  /** mitmweb's `flows/updateFilter`: remember the filter, answer with every matching flow's id. */
  private async updateFilter(c: UiClient, name: string, expr: string): Promise<void> {
    let filter: Filter | null = null;
    const text = expr.trim();
    if (text) {
      try {
        filter = parseFilter(text);
      } catch (err) {
        c.filters.delete(name);
        const payload = { name, matching_flow_ids: [], error: (err as Error).message };
        this.send(c, JSON.stringify({ type: 'flows/filterUpdate', payload } satisfies ServerMessage));
        return;
      }
    }
    c.filters.set(name, filter);
    const ids: string[] = [];
    this.backend.sync();
    for await (const f of this.backend.flows(filter ? { text, match: filter } : null)) ids.push(f.id);
    // A newer filter of the same name answers for itself.
    if (c.filters.get(name) !== filter) return;
    this.send(
      c,
      JSON.stringify({ type: 'flows/filterUpdate', payload: { name, matching_flow_ids: ids } } satisfies ServerMessage),
    );
  }

  private hasLegacy(): boolean {
    for (const c of this.clients) if (c.view === null) return true;
    return false;
  }

  /**
   * A batch goes out one frame interval after the previous one: at once (after pending I/O)
   * when the last was longer ago, so a lone change is not held back for a whole interval.
   */
  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastBatch + this.opts.frameMs - performance.now());
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  /** Answer a page's request at once (after pending I/O), not after a frame. */
  private scheduleSoon(): void {
    if (this.immediate) return;
    this.immediate = setImmediate(() => void this.flush());
  }

  private onMessage(c: UiClient, text: string): void {
    let msg: ClientMessage;
    try {
      msg = JSON.parse(text) as ClientMessage;
    } catch {
      return;
    }
    if (msg?.type === 'view/set') {
      const p = msg.payload;
      c.view ??= this.newView();
      const sort: SortSpecJson = p?.sort ?? { column: 'seq', desc: false };
      this.backend.sync();
      const result = c.view.set(String(p?.filter ?? ''), sort);
      this.send(c, JSON.stringify({ type: 'view/filter', payload: result } satisfies ServerMessage));
      c.dirty = true;
      this.scheduleSoon();
    } else if (msg?.type === 'flows/updateFilter') {
      const name = String(msg.payload?.name ?? '');
      this.updateFilter(c, name, String(msg.payload?.expr ?? '')).catch((err: unknown) =>
        this.opts.log.warn(`Web UI filter ${name} failed: ${(err as Error).message}`),
      );
    } else if (msg?.type === 'view/window') {
      c.view ??= this.newView();
      this.backend.sync();
      const view = c.view;
      const p = msg.payload;
      view.setWindow(Number(p?.offset) || 0, Number(p?.limit) || 0, p?.end === true).then(
        () => {
          if (c.view !== view) return;
          c.dirty = true;
          this.scheduleSoon();
        },
        (err: unknown) => this.opts.log.warn(`Web UI window request failed: ${(err as Error).message}`),
      );
    }
  }

  private newView(): FlowView {
    return new FlowView(this.backend, {
      row: (e: FlowEntry) => flowRow(e.flow, this.versionOf(e.flow)),
      version: (e: FlowEntry) => this.versionOf(e.flow),
    });
  }

  /** Send unless the client is too far behind, in which case it is dropped. */
  private send(c: UiClient, data: string): boolean {
    const ws = c.ws;
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount > this.maxBuffered) {
      this.opts.log.warn(`Web UI client dropped: it did not read its updates (${ws.bufferedAmount} bytes unsent).`);
      ws.terminate();
      this.detach(c);
      return false;
    }
    ws.send(data);
    return true;
  }

  private detach(c: UiClient): void {
    if (!this.clients.delete(c)) return;
    c.view?.close();
    c.view = null;
  }
}

/** A filter's verdict on a flow (null matches all; a filter that throws does not match). */
function matches(filter: Filter | null, flow: Flow): boolean {
  if (filter === null) return true;
  try {
    return filter.match(flow);
  } catch {
    return false;
  }
}
