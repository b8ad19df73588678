import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as sdk from '@mitmts/sdk';
import {
  addon,
  command,
  expandHome,
  inject,
  option,
  KERNEL,
  LOG,
  OptionsError,
  type Flow,
  type Kernel,
  type Logger,
} from '@mitmts/sdk';
import { compileOnce, type NpmModules } from './bundle.js';
import { detachedRecord } from './detached.js';
import { describeScriptError } from './errors.js';
import { evaluateBundle } from './evaluate.js';
import { addonsFromExports } from './exports.js';
import { replayFlow } from './replay.js';
import { SourceMapLookup } from './sourcemap.js';
import { bundleFilename, registerBundle, unregisterBundle } from './stack.js';
import { Script, type ScriptEvent, type ScriptHost } from './script.js';

/** Listens to script loads, failures and removals. */
export type ScriptListener = (event: ScriptEvent) => void;

/** Modules a script gets from the running proxy instead of from disk. */
const HOST_MODULES: ReadonlyMap<string, unknown> = new Map([
  ['@mitmts/sdk', sdk],
  ['@mitmts/core', sdk],
]);

/**
 * `-s` scripts (mitmproxy's ScriptLoader): every path in the `scripts` option is compiled with
 * esbuild, its addons join the chain right after this addon (in option order), and its files
 * are watched: on save the script is rebuilt and the new version swapped in once it has loaded
 * and configured. A script that fails to compile or load is reported with file and line; the
 * previous version (if any) keeps running.
 */
@addon({ name: 'script' })
export class ScriptLoader implements ScriptHost {
  @option({
    type: 'str[]',
    default: [],
    help: 'Execute a script (.ts, .mts, .js, .mjs). May be passed multiple times.',
  })
  scripts!: string[];

  readonly hostModules = HOST_MODULES;
  readonly npm: NpmModules = new Map();
  /** Quiet time after a file change before reloading (ms). */
  debounceMs = 25;
  private readonly active = new Map<string, Script>();
  private order: string[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<ScriptListener>();

  constructor(
    @inject(KERNEL) readonly kernel: Kernel,
    @inject(LOG) readonly log: Logger,
  ) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('scripts')) return;
    const paths = resolveScriptPaths(this.scripts);
    if (sameList(paths, this.order)) return;
    this.order = paths;
    void this.kernel.track(this.enqueue(() => this.sync(paths)));
  }

  done(): void {
    for (const s of this.active.values()) s.close();
    if (this.kernel.state === 'running') {
      for (const s of this.active.values()) void s.unload();
    }
    this.active.clear();
  }

  /** Subscribe to script events (loaded, failed, removed); returns the unsubscribe function. */
  onEvent(listener: ScriptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The loaded script for a path (as given in `scripts`), if any. */
  script(path: string): Script | undefined {
    return this.active.get(resolveScriptPath(path));
  }

  /** Resolves once every queued load and reload has finished. */
  async idle(): Promise<void> {
    let q: Promise<void>;
    do {
      q = this.queue;
      await q;
    } while (q !== this.queue);
  }

  @command('script.run', {
    args: ['flows', 'path'],
    help: 'Run a script on the given flows: configure, running, then for each flow the hooks it has seen live, in order. The script is not added to the chain and gets no load.',
  })
  async run(flows: Flow[], path: string): Promise<void> {
    const p = resolveScriptPath(path);
    if (!existsSync(p)) {
      this.log.error(`No such script: ${p}`);
      return;
    }
    const filename = bundleFilename(p, 'run');
    let inputs: readonly string[] = [p];
    try {
      const bundle = await compileOnce(p, new Set(this.hostModules.keys()), this.npm);
      inputs = bundle.inputs;
      registerBundle(filename, new SourceMapLookup(bundle.map, (s) => resolve(p, '..', s)));
      const exports = evaluateBundle(bundle, p, filename, this.hostModules, this.npm);
      const wrapper = { name: `scriptmanager:${p}`, addons: addonsFromExports(exports, p) };
      const table = this.kernel.addons.tableFor(detachedRecord(this.kernel, wrapper));
      await table.trigger('configure', new Set(this.kernel.options.names()));
      await table.trigger('running');
      for (const f of flows) await replayFlow(table, f);
    } catch (err) {
      this.log.error(describeScriptError(p, err, inputs));
    } finally {
      unregisterBundle(filename);
    }
  }

  // --- ScriptHost ---------------------------------------------------------------------

  enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue
      .then(work)
      .catch((err: unknown) => this.log.error(`script loader: ${(err as Error)?.stack ?? String(err)}`));
    this.queue = next;
    return next;
  }

  async add(script: Script, wrapper: object): Promise<void> {
    const chain = this.kernel.addons;
    const list = chain.list();
    const me = chain.find(this);
    let index = me ? list.indexOf(me) + 1 : list.length;
    for (const p of this.order) {
      if (p === script.path) break;
      const w = this.active.get(p)?.wrapper;
      const r = w ? chain.find(w) : undefined;
      if (r) index = Math.max(index, list.indexOf(r) + 1);
    }
    await this.kernel.addRecord(wrapper, index);
  }

  vanished(script: Script): void {
    this.log.info(`Removing script ${script.path}`);
    const keep = this.scripts.filter((s) => resolveScriptPath(s) !== script.path);
    try {
      this.kernel.options.update({ scripts: keep });
    } catch (err) {
      this.log.error(`Could not remove script ${script.path} from the scripts option: ${(err as Error).message}`);
    }
  }

  emit(event: ScriptEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own business.
      }
    }
  }

  private async sync(paths: readonly string[]): Promise<void> {
    for (const [p, s] of [...this.active]) {
      if (paths.includes(p)) continue;
      this.log.info(`Un-loading script ${p}`);
      this.active.delete(p);
      await s.unload();
    }
    for (const p of paths) {
      if (this.active.has(p)) continue;
      const s = new Script(p, this);
      this.active.set(p, s);
      await s.load();
    }
    this.reorder();
  }

  /** Keep the scripts' wrappers in option order right after this addon, without reloading. */
  private reorder(): void {
    const chain = this.kernel.addons;
    const records = this.order
      .map((p) => this.active.get(p)?.wrapper)
      .map((w) => (w ? chain.find(w) : undefined))
      .filter((r): r is NonNullable<typeof r> => r !== undefined);
    const list = chain.list();
    const positions = records.map((r) => list.indexOf(r));
    if (positions.every((p, i) => i === 0 || p > positions[i - 1]!)) return;
    for (const r of records) chain.remove(r);
    const me = chain.find(this);
    let index = me ? chain.list().indexOf(me) + 1 : chain.list().length;
    for (const r of records) chain.insert(r, index++);
  }
}

/** A `scripts` entry as a path: quotes and spaces stripped, `~` expanded, made absolute. */
export function resolveScriptPath(entry: string): string {
  return resolve(
    expandHome(
      entry
        .trim()
        .replace(/^(['"])(.*)\1$/, '$2')
        .trim(),
    ),
  );
}

/** Every entry resolved; a missing file or a duplicate is an OptionsError (the update is rejected). */
export function resolveScriptPaths(entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const p = resolveScriptPath(e);
    if (!existsSync(p) || !statSync(p).isFile()) throw new OptionsError(`No such script: ${p}`);
    if (out.includes(p)) throw new OptionsError(`Duplicate script: ${p}`);
    out.push(p);
  }
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
