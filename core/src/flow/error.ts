import type { ErrorState } from './state.js';

/**
 * A connection or protocol error that affected a flow (mitmproxy's `flow.Error`): interrupted
 * connections, timeouts, protocol violations, or the flow being killed. This is distinct from an
 * HTTP error response, which is a normal {@link Response}.
 */
export class FlowError {
  /** The message of errors created by `flow.kill()`. */
  static readonly KILLED_MESSAGE = 'Connection killed.';

  /** Describes the error. */
  msg: string;
  /** When it happened, seconds since the epoch. */
  timestamp: number;

  /** `timestamp` defaults to now. */
  constructor(msg: string, timestamp?: number) {
    this.msg = msg;
    this.timestamp = timestamp || Date.now() / 1000;
  }

  static fromState(state: ErrorState): FlowError {
    return new FlowError(state.msg, state.timestamp);
  }

  getState(): ErrorState {
    return { msg: this.msg, timestamp: this.timestamp };
  }

  setState(state: ErrorState): void {
    this.msg = state.msg;
    this.timestamp = state.timestamp;
  }

  copy(): FlowError {
    return new FlowError(this.msg, this.timestamp);
  }

  toString(): string {
    return this.msg;
  }
}

/** Raised for an invalid control action on a flow, e.g. killing a flow that is not killable. */
export class FlowControlError extends Error {
  readonly code = 'MITMTS_ERR_FLOW_CONTROL';
  constructor(message: string) {
    super(message);
    this.name = 'FlowControlError';
  }
}
