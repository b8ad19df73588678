import { FLOW_FORMAT_VERSION, type BaseFlowState, type FlowState, type Serializable } from './state.js';
import { Client, Server } from './connection.js';
import { StateError, StateKeys } from './state-keys.js';
import { FlowError, FlowControlError } from './error.js';
import { deepCopyState, stateEquals } from './bytes.js';
import { newFlowId } from './flow-id.js';

/** The flow types mitmts knows. */
export type FlowType = FlowState['type'];

/** Which side is replayed: the client's request (client replay) or the server's response. */
export type ReplayKind = 'request' | 'response';

type FlowLoader = (state: FlowState, adopt: boolean) => Flow;
const loaders = new Map<string, FlowLoader>();

/** Register how to load a flow type from its state (called by each flow module). */
export function registerFlowType(type: FlowType, load: FlowLoader): void {
  loaders.set(type, load);
}

/**
 * Load any flow from its state, dispatching on `state.type`. With `adopt` the flow takes over
 * the state's arrays and objects instead of copying them: only for a state nobody uses
 * afterwards (the flow reader's).
 */
export function loadFlow(state: FlowState, adopt = false): Flow {
  const load = loaders.get(state.type);
  if (!load) throw new StateError(`Unknown flow type: '${String(state.type)}' (expected http, tcp, udp or dns).`);
  return load(state, adopt);
}

/** Placeholder while a flow is loaded (setState replaces it): saves an allocation per flow. */
const LOADING_METADATA: Record<string, unknown> = Object.freeze({});

export const BASE_FLOW_KEYS = [
  'version',
  'type',
  'id',
  'error',
  'client_conn',
  'server_conn',
  'intercepted',
  'is_replay',
  'marked',
  'metadata',
  'comment',
  'timestamp_created',
  'backup',
] as const;

/** The keys of a flow state of `type` with `extra` keys beyond the base ones. */
export function flowStateKeys(type: FlowType, extra: readonly string[]): StateKeys {
  return new StateKeys([...BASE_FLOW_KEYS, ...extra], `${type} flow`);
}

/**
 * Base of all flows: a collection of objects for one network exchange, shared between the proxy
 * layers and addons. Mirrors mitmproxy's `Flow`.
 */
export abstract class Flow {
  /** `http`, `tcp`, `udp` or `dns`. */
  abstract readonly type: FlowType;

  private _id: string | undefined;
  /** The client that connected to mitmts. */
  clientConn: Client;
  /**
   * The server mitmts connected to. Flows that never opened one (e.g. replayed responses) still
   * have a Server with `timestampStart` null.
   */
  serverConn: Server;
  /** A connection or protocol error affecting this flow. */
  error: FlowError | null = null;
  /** True while the flow is paused waiting for the user (see {@link intercept}). */
  intercepted = false;
  /** Non-empty if the user marked the flow: the marker (e.g. `:default:` or an emoji name). */
  marked = '';
  /** Set if the flow was replayed: `request` (client replay) or `response` (server replay). */
  isReplay: ReplayKind | null = null;
  /** True while the flow belongs to an active connection; false once done or loaded from disk. */
  live: boolean;
  /** When the flow was created, seconds since the epoch (unchanged by replays). */
  timestampCreated: number;
  /** Arbitrary data attached by addons; saved with the flow (keep values serializable). */
  metadata: Record<string, unknown>;
  /** A user comment. */
  comment = '';

  private _backup: FlowState | null = null;
  private _resume: { promise: Promise<void>; resolve: () => void } | null = null;

  /**
   * A new flow (its random id is made on first use). Loaders pass no connections: `setState`
   * then fills in everything, the id included.
   */
  constructor(clientConn: Client, serverConn: Server, live = false) {
    const loading = clientConn === undefined;
    this._id = undefined;
    this.clientConn = clientConn;
    this.serverConn = serverConn;
    this.live = live;
    this.timestampCreated = loading ? 0 : Date.now() / 1000;
    this.metadata = loading ? LOADING_METADATA : {};
  }

  /**
   * Unique id (UUID; new ones are time-ordered, see flow-id.ts), made on first use: most live
   * flows never need one. Its time is the flow's creation (so ids sort as flows were created).
   */
  get id(): string {
    if (this._id !== undefined) return this._id;
    const ms = Math.floor(this.timestampCreated * 1000);
    return (this._id = newFlowId(ms > 0 && ms < 2 ** 48 ? ms : Date.now()));
  }

  set id(v: string) {
    this._id = v;
  }

  /** Start of the flow (the client connection's start; HTTP flows use the request's). */
  get timestampStart(): number {
    return this.clientConn.timestampStart;
  }

  /** True if the flow can be killed: it is live and not killed already. */
  get killable(): boolean {
    return this.live && !(this.error && this.error.msg === FlowError.KILLED_MESSAGE);
  }

  /**
   * Kill the flow: the current message is not forwarded. Sets the error to
   * {@link FlowError.KILLED_MESSAGE} and resumes the flow if it was intercepted.
   * @throws FlowControlError if the flow is not killable.
   */
  kill(): void {
    if (!this.killable)
      throw new FlowControlError(`Flow ${this.id} is not killable: it is not live or was already killed.`);
    this.error = new FlowError(FlowError.KILLED_MESSAGE);
    this.resume();
    this.live = false;
  }

  /** Pause the flow until {@link resume} (the runtime waits on {@link waitForResume}). */
  intercept(): void {
    if (this.intercepted) return;
    this.intercepted = true;
  }

  /** Continue an intercepted flow. */
  resume(): void {
    if (!this.intercepted) return;
    this.intercepted = false;
    const r = this._resume;
    this._resume = null;
    r?.resolve();
  }

  /** Resolves when the flow is resumed (immediately if it is not intercepted). */
  waitForResume(): Promise<void> {
    if (!this.intercepted) return Promise.resolve();
    if (!this._resume) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this._resume = { promise, resolve };
    }
    return this._resume.promise;
  }

  /** Save the current state so that {@link revert} can restore it (unless a backup exists and not `force`). */
  backup(force = false): void {
    if (!this._backup || force) this._backup = this.getState();
  }

  /** Restore the last backup, if any. */
  revert(): void {
    if (this._backup) {
      const b = this._backup;
      this._backup = null;
      this.setState({ ...b, backup: null });
    }
  }

  /** True if a backup exists and the flow changed since. */
  modified(): boolean {
    if (!this._backup) return false;
    return !sameState(this._backup, this.stateWithoutBackup());
  }

  /** Serializable state (flow format 21, snake_case keys, Buffers for bytes). */
  abstract getState(): FlowState;

  /**
   * Restore from a state (same type). With `adopt` the flow takes over the state's arrays and
   * objects instead of copying them: only for a state nobody uses afterwards.
   */
  abstract setState(state: FlowState, adopt?: boolean): void;

  /** A copy with a new id; the copy is not live. */
  copy(): this {
    const state = this.getState();
    state.id = newFlowId();
    const f = loadFlow(state) as this;
    f.live = false;
    return f;
  }

  /** Load any flow from its state, dispatching on `state.type`. */
  static fromState(state: FlowState): Flow {
    return loadFlow(state);
  }

  private stateWithoutBackup(): FlowState {
    const saved = this._backup;
    this._backup = null;
    try {
      return this.getState();
    } finally {
      this._backup = saved;
    }
  }

  protected baseState(): BaseFlowState {
    const state: BaseFlowState = {
      version: FLOW_FORMAT_VERSION,
      type: this.type,
      id: this.id,
      error: this.error ? this.error.getState() : null,
      client_conn: this.clientConn.getState(),
      server_conn: this.serverConn.getState(),
      intercepted: this.intercepted,
      is_replay: this.isReplay,
      marked: this.marked,
      metadata: deepCopyState(this.metadata) as { [key: string]: Serializable },
      comment: this.comment,
      timestamp_created: this.timestampCreated,
      backup: null,
    };
    return state;
  }

  /** Attach the backup to a complete state if the flow changed since it was taken. */
  protected withBackup<T extends FlowState>(state: T): T {
    if (this._backup && !sameState(this._backup, state)) state.backup = this._backup;
    return state;
  }

  protected setBaseState(state: BaseFlowState, keys: StateKeys, adopt: boolean): void {
    keys.check(state);
    if (state.type !== this.type)
      throw new StateError(`Cannot load a '${state.type}' flow state into a ${this.type} flow.`);
    if (state.version !== FLOW_FORMAT_VERSION) {
      throw new StateError(
        `Flow state has version ${state.version}, expected ${FLOW_FORMAT_VERSION}: migrate it first (core/src/io).`,
      );
    }
    this.id = state.id;
    this.error = state.error ? FlowError.fromState(state.error) : null;
    this.clientConn = Client.fromState(state.client_conn, adopt);
    this.serverConn = Server.fromState(state.server_conn, adopt);
    this.intercepted = state.intercepted;
    this.isReplay = state.is_replay;
    this.marked = state.marked;
    this.metadata = adopt ? state.metadata : (deepCopyState(state.metadata) as Record<string, unknown>);
    this.comment = state.comment;
    this.timestampCreated = state.timestamp_created;
    this._backup = state.backup ?? null;
  }
}

/** Compare two flow states ignoring their `backup` keys. */
function sameState(a: FlowState, b: FlowState): boolean {
  return stateEquals({ ...a, backup: null }, { ...b, backup: null });
}
