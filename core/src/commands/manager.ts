import type { Flow } from '../flow/index.js';
import { CommandError, compareNames, didYouMean } from '../kernel/errors.js';
import { lex, quote } from './lexer.js';
import type { ArgObject, ArgSpec, ArgType, CommandInfo, CommandSpec } from './types.js';

/** Turns a flow spec (`@all`, `@marked`, a filter expression) into flows. */
export type FlowResolver = (spec: string) => Flow[];

interface Registered {
  info: CommandInfo;
  fn: (...args: unknown[]) => unknown;
  self: unknown;
}

/**
 * The command registry: addon methods marked `@command(...)`, callable by name with typed
 * arguments (`call`) or from a command line whose words are parsed by declared type (`execute`).
 */
export class CommandManager {
  private readonly commands = new Map<string, Registered>();
  private resolver: FlowResolver = () => {
    throw new CommandError('No flow store is available to resolve flow specs.', 'MITMTS_ERR_COMMAND_ARGS');
  };

  setFlowResolver(resolver: FlowResolver): void {
    this.resolver = resolver;
  }

  /** Register a command; `self` is `this` for the call (parameter names are read from `fn`). */
  add(spec: CommandSpec, fn: (...args: never[]) => unknown, owner: string, self?: unknown): void {
    if (!/^[a-z0-9_][a-z0-9_.-]*$/i.test(spec.name)) {
      throw new CommandError(
        `Invalid command name ${JSON.stringify(spec.name)} (declared by ${owner}): use dotted words, e.g. myaddon.run.`,
        'MITMTS_ERR_COMMAND_DUPLICATE',
      );
    }
    const existing = this.commands.get(spec.name);
    if (existing && existing.info.owner !== owner) {
      throw new CommandError(
        `Command ${spec.name} is declared twice: by ${existing.info.owner} and by ${owner}.`,
        'MITMTS_ERR_COMMAND_DUPLICATE',
      );
    }
    const names = paramNames(fn);
    const args: ArgObject[] = (spec.args ?? []).map((a, i) => normalizeArg(a, names[i] ?? `arg${i}`));
    const info: CommandInfo = {
      name: spec.name,
      help: spec.help ?? '',
      args,
      returns: spec.returns,
      owner,
      signature: signature(spec.name, args, spec.returns),
    };
    this.commands.set(spec.name, { info, fn: fn as (...args: unknown[]) => unknown, self });
  }

  remove(name: string): void {
    this.commands.delete(name);
  }

  /** Remove every command an addon registered. */
  removeOwner(owner: string): void {
    for (const [name, c] of this.commands) if (c.info.owner === owner) this.commands.delete(name);
  }

  has(name: string): boolean {
    return this.commands.has(name);
  }

  get(name: string): CommandInfo {
    return this.lookup(name).info;
  }

  /** Every command, sorted by name. */
  list(): CommandInfo[] {
    return [...this.commands.values()].map((c) => c.info).sort((a, b) => compareNames(a.name, b.name));
  }

  /** Call with already-typed arguments (from code: other addons, the web UI). */
  async call(name: string, ...args: unknown[]): Promise<unknown> {
    const c = this.lookup(name);
    const required = c.info.args.filter((a) => !a.optional).length;
    if (args.length < required || args.length > c.info.args.length) {
      throw this.arity(c.info, args.length);
    }
    return this.invoke(c, args);
  }

  /**
   * Call with arguments that are typed values or strings, mixed: a string given for a parameter
   * whose type is not a string type is parsed by that type, as on a command line (`'@all'` for
   * `flows`, `'3'` for `int`); any other value is passed as it is. A trailing `str[]` parameter
   * takes the remaining strings, or one array.
   */
  async callMixed(name: string, args: readonly unknown[]): Promise<unknown> {
    const c = this.lookup(name);
    const params = c.info.args;
    const values: unknown[] = [];
    let ai = 0;
    for (let pi = 0; pi < params.length; pi++) {
      const p = params[pi]!;
      if (p.type === 'str[]' && pi === params.length - 1 && !(args.length === ai + 1 && Array.isArray(args[ai]))) {
        if (args.slice(ai).some((a) => typeof a !== 'string')) throw this.arity(c.info, args.length);
        values.push(args.slice(ai));
        ai = args.length;
        break;
      }
      if (ai >= args.length) {
        if (p.optional) break;
        throw this.arity(c.info, args.length);
      }
      const a = args[ai++];
      values.push(typeof a === 'string' && !STRING_TYPES.has(p.type) ? await this.convert(c.info, p, a) : a);
    }
    if (ai < args.length) throw this.arity(c.info, args.length);
    return this.invoke(c, values);
  }

  /** Parse and run a command line: `flow.mark @all ":default:"`. */
  async execute(line: string): Promise<unknown> {
    const words = lex(line);
    if (words.length === 0) throw new CommandError('Empty command line.', 'MITMTS_ERR_UNKNOWN_COMMAND');
    const [name, ...rest] = words as [string, ...string[]];
    return this.callStrings(name, rest);
  }

  /** Run a command with string arguments, each converted by its declared type. */
  callStrings(name: string, words: readonly string[]): Promise<unknown> {
    return this.callMixed(name, words);
  }

  private async invoke(c: Registered, args: unknown[]): Promise<unknown> {
    try {
      return await c.fn.apply(c.self, args);
    } catch (err) {
      if (err instanceof CommandError) throw err;
      const e = new CommandError(`Command ${c.info.name} failed: ${(err as Error)?.message ?? String(err)}`);
      (e as { cause?: unknown }).cause = err;
      throw e;
    }
  }

  private async convert(info: CommandInfo, p: ArgObject, word: string): Promise<unknown> {
    const bad = (expected: string): never => {
      throw new CommandError(
        `Command ${info.name}: argument ${p.name} expects ${expected}, got ${JSON.stringify(word)}. Usage: ${info.signature}`,
        'MITMTS_ERR_COMMAND_ARGS',
      );
    };
    switch (p.type) {
      case 'str':
      case 'path':
      case 'cmd':
      case 'marker':
        return word;
      case 'int':
        if (!/^[-+]?\d+$/.test(word)) bad('an integer');
        return Number.parseInt(word, 10);
      case 'bool':
        if (word === 'true') return true;
        if (word === 'false') return false;
        return bad('true or false');
      case 'str[]':
      case 'cutspec':
        return word === '' ? [] : word.split(',').map((s) => s.trim());
      case 'bytes':
        return Buffer.from(
          word.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        );
      case 'choice': {
        const choices = typeof p.choices === 'string' ? ((await this.call(p.choices)) as string[]) : (p.choices ?? []);
        if (!choices.includes(word)) bad(`one of ${choices.join(', ')}`);
        return word;
      }
      case 'flows':
        return this.resolver(word);
      case 'flow': {
        const flows = this.resolver(word);
        if (flows.length !== 1) bad(`a spec selecting exactly one flow (it selected ${flows.length})`);
        return flows[0];
      }
    }
  }

  private lookup(name: string): Registered {
    const c = this.commands.get(name);
    if (!c) {
      throw new CommandError(
        `Unknown command: ${name}.${didYouMean(name, this.commands.keys())}`,
        'MITMTS_ERR_UNKNOWN_COMMAND',
      );
    }
    return c;
  }

  private arity(info: CommandInfo, given: number): CommandError {
    const required = info.args.filter((a) => !a.optional).length;
    const variadic = info.args.at(-1)?.type === 'str[]';
    const expected = variadic
      ? `at least ${required - 1}`
      : required === info.args.length
        ? `${required}`
        : `${required} to ${info.args.length}`;
    return new CommandError(
      `Command ${info.name} takes ${expected} argument${expected === '1' ? '' : 's'}, got ${given}. Usage: ${info.signature}`,
      'MITMTS_ERR_COMMAND_ARGS',
    );
  }
}

/** Parameter types whose values are strings: a string argument for them is taken as it is. */
const STRING_TYPES: ReadonlySet<ArgType> = new Set<ArgType>(['str', 'path', 'cmd', 'marker']);

function normalizeArg(a: ArgSpec, fallbackName: string): ArgObject {
  return typeof a === 'string' ? { name: fallbackName, type: a as ArgType } : a;
}

function signature(name: string, args: readonly ArgObject[], returns?: string): string {
  const parts = args.map((a) => {
    const t = a.type === 'str[]' ? 'str...' : a.type;
    return a.optional ? `[${a.name}:${t}]` : `${a.name}:${t}`;
  });
  return [name, ...parts].join(' ') + (returns ? ` -> ${returns}` : '');
}

/** Parameter names of a function, read from its source (good enough for listings). */
export function paramNames(fn: (...args: never[]) => unknown): string[] {
  const src = Function.prototype.toString.call(fn);
  const m = /^[^(]*\(([^)]*)\)/.exec(src) ?? /^\s*([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (!m) return [];
  return m[1]!
    .split(',')
    .map((p) =>
      p
        .replace(/\/\*.*?\*\//g, '')
        .replace(/=.*$/s, '')
        .replace(/^\.\.\./, '')
        .trim(),
    )
    .filter(Boolean);
}

export { quote };
