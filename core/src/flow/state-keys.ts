/**
 * Checking the keys of serialized states on load, as mitmproxy's dataclass loaders do: a state
 * with a key the schema does not know is rejected. Loading is a hot path (every flow of a file),
 * so the check remembers the key order it saw last and compares against it by pointer; only a
 * state with another order takes the set lookup.
 */

/** Raised by `fromState` for a state that does not match the schema. */
export class StateError extends Error {
  readonly code = 'MITMTS_ERR_INVALID_STATE';
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

function unexpected(state: object, allowed: { has(k: string): boolean }, what: string): void {
  const extra = Object.keys(state).filter((k) => !allowed.has(k));
  if (extra.length) throw new StateError(`Unexpected fields in ${what} state: ${extra.join(', ')}.`);
}

/** The keys one kind of state may have. */
export class StateKeys {
  private readonly allowed: ReadonlySet<string>;
  /** Own keys of the last state that passed, in order. */
  private seen: readonly string[];

  constructor(
    keys: readonly string[],
    /** What the state is, for error messages (`client connection`). */
    readonly what: string,
  ) {
    this.allowed = new Set(keys);
    this.seen = keys;
  }

  /** @throws StateError naming every key of `state` that is not allowed. */
  check(state: object): void {
    const seen = this.seen;
    let i = 0;
    // Keys equal to a prefix of a passing state's own keys are all allowed (inherited ones
    // included); anything else takes the full check.
    for (const k in state) {
      if (k !== seen[i]) {
        unexpected(state, this.allowed, this.what);
        this.seen = Object.keys(state);
        return;
      }
      i++;
    }
  }
}

/** Reject keys `allowed` does not list (for states loaded rarely; hot ones use {@link StateKeys}). */
export function checkKeys(state: object, allowed: readonly string[], what: string): void {
  for (const k in state) {
    if (!allowed.includes(k)) {
      unexpected(state, { has: (x) => allowed.includes(x) }, what);
      return;
    }
  }
}
