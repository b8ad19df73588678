import type { Flow } from '../flow/index.js';

/**
 * Command argument types, mitmproxy's: `str`, `int`, `bool`, `str[]` (as the last parameter it
 * takes every remaining word), `path`, `flows` (a flow spec: `@all`, `@marked`, `@unmarked`, or
 * a filter expression), `flow` (a spec that must select exactly one flow), `choice`, `bytes`,
 * `cmd`, `marker`, `cutspec` (comma-separated list).
 */
export interface ArgValueTypes {
  str: string;
  int: number;
  bool: boolean;
  'str[]': string[];
  path: string;
  flows: Flow[];
  flow: Flow;
  choice: string;
  bytes: Buffer;
  cmd: string;
  marker: string;
  cutspec: string[];
}

export type ArgType = keyof ArgValueTypes;

export interface ArgObject {
  readonly name: string;
  readonly type: ArgType;
  /** May be left out on the command line: the method gets `undefined`. */
  readonly optional?: boolean;
  /** For `choice`: the allowed values, or the name of a command that returns them. */
  readonly choices?: readonly string[] | string;
  readonly help?: string;
}

/** An argument: just its type (the name is taken from the method's parameter list), or a full spec. */
export type ArgSpec = ArgType | ArgObject;

type ValueOf<S> = S extends ArgType
  ? ArgValueTypes[S]
  : S extends { type: infer T extends ArgType; optional: true }
    ? ArgValueTypes[T] | undefined
    : S extends { type: infer T extends ArgType }
      ? ArgValueTypes[T]
      : never;

/** The parameter tuple a command method must accept for its declared arguments. */
export type ArgValues<A extends readonly ArgSpec[]> = { -readonly [I in keyof A]: ValueOf<A[I]> };

export interface CommandSpec {
  readonly name: string;
  readonly help?: string;
  readonly args?: readonly ArgSpec[];
  /** Shown in listings, e.g. `str[]`, `int`; nothing means the command returns nothing. */
  readonly returns?: string;
}

/** A registered command, as listed by `--commands`. */
export interface CommandInfo {
  readonly name: string;
  readonly help: string;
  readonly args: readonly ArgObject[];
  readonly returns: string | undefined;
  readonly owner: string;
  /** e.g. `flow.mark flows marker -> None` style: `flow.mark <flows> <marker:str>` */
  readonly signature: string;
}
