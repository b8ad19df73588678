import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import {
  addon,
  command,
  CommandError,
  expandHome,
  formatConfig,
  type Flow,
  HTTPFlow,
  inject,
  KERNEL,
  type Kernel,
  LOG,
  type Logger,
  type Message,
  OptionsError,
  parseConfig,
  RESPONSES,
} from '@mitmts/sdk';

/** What `flow.set` can change (mitmproxy's `flow.set.options`). */
export const FLOW_SET_ATTRIBUTES = ['host', 'status_code', 'method', 'path', 'url', 'reason'] as const;

/** What `flow.encode` can encode with (mitmproxy's `flow.encode.options`). */
export const ENCODINGS = ['gzip', 'deflate', 'br', 'zstd'] as const;

/** A marker: empty (unmarked) or an emoji short name such as `:default:` or `:red_circle:`. */
const MARKER = /^$|^:[a-z0-9_+-]+:$/;

type Part = 'request' | 'response';

/**
 * mitmproxy's `core` addon: the commands every mitmproxy tool has. `set` and `options.*` work on
 * the kernel's options; `flow.*` change flows and fire `update` with the flows they changed.
 */
@addon({ name: 'core', description: 'Core commands: set, flow.*, options.*.' })
export class Core {
  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) private readonly log: Logger,
  ) {}

  // --- options ---------------------------------------------------------------------------

  @command('set', {
    args: [
      { name: 'option', type: 'str' },
      { name: 'value', type: 'str[]', optional: true },
    ],
    help:
      'Set an option. When the value is omitted, booleans are set to true, strings and integers are set to None ' +
      '(if permitted), and sequences are emptied. Boolean values can be true, false or toggle. ' +
      'Several values set a sequence option to all of them.',
  })
  set(option: string, value: string[] | undefined): void {
    const specs = value && value.length > 0 ? value.map((v) => `${option}=${v}`) : [option];
    try {
      this.kernel.options.set(specs, { source: { label: 'set' } });
    } catch (err) {
      if (err instanceof OptionsError) throw new CommandError(err.message);
      throw err;
    }
  }

  @command('options.load', {
    args: ['path'],
    help: 'Load options from a YAML file (as config.yaml); options no addon declares yet are kept for later.',
  })
  optionsLoad(path: string): void {
    const file = expandHome(path);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CommandError(`Cannot load options from ${file}: ${(err as Error).message}`);
    }
    try {
      const config = parseConfig(text, file);
      this.kernel.options.update(config.values, { defer: true, source: { label: file } });
    } catch (err) {
      if (err instanceof OptionsError) throw new CommandError(`Error reading ${file}: ${err.message}`);
      throw err;
    }
  }

  @command('options.save', {
    args: ['path'],
    help: 'Save the options that differ from their defaults to a YAML file. Keys already in the file stay, unknown ones are dropped.',
  })
  optionsSave(path: string): void {
    const file = expandHome(path);
    let existing: Record<string, unknown> = {};
    if (existsSync(file) && statSync(file).isFile()) {
      try {
        existing = parseConfig(readFileSync(file, 'utf8'), file).values;
      } catch (err) {
        throw new CommandError(`Cannot update ${file}: ${(err as Error).message}`);
      }
    }
    const options = this.kernel.options;
    const values: Record<string, unknown> = {};
    for (const name of Object.keys(existing)) if (options.has(name)) values[name] = options.get(name);
    Object.assign(values, options.changed());
    try {
      writeFileSync(file, formatConfig(values));
    } catch (err) {
      throw new CommandError(`Cannot save options to ${file}: ${(err as Error).message}`);
    }
  }

  @command('options.reset', { help: 'Reset all options to their defaults.' })
  optionsReset(): void {
    this.kernel.options.reset();
  }

  @command('options.reset.one', { args: [{ name: 'name', type: 'str' }], help: 'Reset one option to its default.' })
  optionsResetOne(name: string): void {
    if (!this.kernel.options.has(name)) throw new CommandError(`No such option: ${name}`);
    this.kernel.options.resetOne(name);
  }

  // --- flows -----------------------------------------------------------------------------

  @command('flow.resume', { args: ['flows'], help: 'Resume flows if they are intercepted.' })
  resume(flows: Flow[]): void {
    const intercepted = flows.filter((f) => f.intercepted);
    for (const f of intercepted) f.resume();
    this.updated(intercepted);
  }

  @command('flow.mark', {
    args: ['flows', 'marker'],
    help: 'Mark flows with a marker (an emoji short name like :default:), or unmark them with "".',
  })
  mark(flows: Flow[], marker: string): void {
    if (!MARKER.test(marker))
      throw new CommandError(
        `Invalid marker value ${JSON.stringify(marker)}: use "" to unmark, or an emoji short name such as :default: or :star:.`,
      );
    for (const f of flows) f.marked = marker;
    this.updated(flows);
  }

  @command('flow.mark.toggle', { args: ['flows'], help: 'Toggle the mark on flows.' })
  markToggle(flows: Flow[]): void {
    for (const f of flows) f.marked = f.marked ? '' : ':default:';
    this.updated(flows);
  }

  @command('flow.kill', { args: ['flows'], help: 'Kill running flows.' })
  kill(flows: Flow[]): void {
    const killed = flows.filter((f) => f.killable);
    for (const f of killed) f.kill();
    this.log.alert(`Killed ${killed.length} flows.`);
    this.updated(killed);
  }

  @command('flow.revert', { args: ['flows'], help: 'Revert flow changes.' })
  revert(flows: Flow[]): void {
    const reverted = flows.filter((f) => f.modified());
    for (const f of reverted) f.revert();
    this.log.alert(`Reverted ${reverted.length} flows.`);
    this.updated(reverted);
  }

  @command('flow.set.options', { returns: 'str[]', help: 'The attributes flow.set can change.' })
  setOptions(): string[] {
    return [...FLOW_SET_ATTRIBUTES];
  }

  @command('flow.set', {
    args: ['flows', { name: 'attr', type: 'choice', choices: 'flow.set.options' }, 'str'],
    help: 'Quickly set a number of common values on flows: host, method, path, url (requests), status_code, reason (responses).',
  })
  flowSet(flows: Flow[], attr: string, value: string): void {
    let status = 0;
    if (attr === 'status_code') {
      if (!/^[-+]?\d+$/.test(value.trim())) throw new CommandError(`Status code is not an integer: ${value}`);
      status = Number.parseInt(value, 10);
    }
    const changed: Flow[] = [];
    for (const f of flows) {
      if (!(f instanceof HTTPFlow)) continue;
      const req = f.request;
      const resp = f.response;
      let did = false;
      switch (attr) {
        case 'method':
          req.method = value;
          did = true;
          break;
        case 'host':
          req.host = value;
          did = true;
          break;
        case 'path':
          req.path = value;
          did = true;
          break;
        case 'url':
          try {
            req.url = value;
          } catch (err) {
            throw new CommandError(`URL ${JSON.stringify(value)} is invalid: ${(err as Error).message}`);
          }
          did = true;
          break;
        case 'status_code':
          if (resp) {
            resp.statusCode = status;
            const reason = RESPONSES[status];
            if (reason !== undefined) resp.reason = reason;
            did = true;
          }
          break;
        case 'reason':
          if (resp) {
            resp.reason = value;
            did = true;
          }
          break;
      }
      if (did) changed.push(f);
    }
    this.updated(changed);
    this.log.alert(`Set ${attr} on ${changed.length} flows.`);
  }

  @command('flow.decode', {
    args: ['flows', { name: 'part', type: 'choice', choices: ['request', 'response'] }],
    help: 'Decode the request or response body of flows.',
  })
  decode(flows: Flow[], part: string): void {
    const changed = this.eachPart(flows, part as Part, (f, m) => {
      f.backup();
      this.bodyOp(() => m.decode(), f, 'decode');
      return true;
    });
    this.log.alert(`Decoded ${changed.length} flows.`);
  }

  @command('flow.encode.toggle', {
    args: ['flows', { name: 'part', type: 'choice', choices: ['request', 'response'] }],
    help: 'Toggle the encoding of the request or response body of flows: deflate if it has none, else decode it.',
  })
  encodeToggle(flows: Flow[], part: string): void {
    const changed = this.eachPart(flows, part as Part, (f, m) => {
      f.backup();
      const current = m.headers.get('content-encoding') ?? 'identity';
      this.bodyOp(() => (current === 'identity' ? m.encode('deflate') : m.decode()), f, 'toggle the encoding of');
      return true;
    });
    this.log.alert(`Toggled encoding on ${changed.length} flows.`);
  }

  @command('flow.encode.options', { returns: 'str[]', help: 'The encodings flow.encode can apply.' })
  encodeOptions(): string[] {
    return [...ENCODINGS];
  }

  @command('flow.encode', {
    args: [
      'flows',
      { name: 'part', type: 'choice', choices: ['request', 'response'] },
      { name: 'encoding', type: 'choice', choices: 'flow.encode.options' },
    ],
    help: 'Encode the request or response body of flows that have no encoding yet.',
  })
  encode(flows: Flow[], part: string, encoding: string): void {
    const changed = this.eachPart(flows, part as Part, (f, m) => {
      if ((m.headers.get('content-encoding') ?? 'identity') !== 'identity') return false;
      f.backup();
      this.bodyOp(() => m.encode(encoding), f, 'encode');
      return true;
    });
    this.log.alert(`Encoded ${changed.length} flows.`);
  }

  // --- helpers ---------------------------------------------------------------------------

  /** Run `fn` on the chosen message of each HTTP flow that has it; fire `update` with the changed flows. */
  private eachPart(flows: Flow[], part: Part, fn: (f: HTTPFlow, m: Message) => boolean): Flow[] {
    const changed: Flow[] = [];
    for (const f of flows) {
      if (!(f instanceof HTTPFlow)) continue;
      const m = part === 'request' ? f.request : f.response;
      if (m && fn(f, m)) changed.push(f);
    }
    this.updated(changed);
    return changed;
  }

  /** A body that does not decode is a command error naming the flow, not a crash. */
  private bodyOp(op: () => void, f: Flow, what: string): void {
    try {
      op();
    } catch (err) {
      throw new CommandError(`Cannot ${what} the body of flow ${f.id}: ${(err as Error).message}`);
    }
  }

  private updated(flows: Flow[]): void {
    if (flows.length > 0) void this.kernel.trigger('update', flows);
  }
}
