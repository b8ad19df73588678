import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Kernel, Logger } from '@mitmts/sdk';
import { ScriptBuildError, ScriptCompiler, type NpmModules } from './bundle.js';
import { describeScriptError } from './errors.js';
import { evaluateBundle } from './evaluate.js';
import { addonsFromExports, unfiredHookWarnings } from './exports.js';
import { SourceMapLookup } from './sourcemap.js';
import { bundleFilename, registerBundle, unregisterBundle } from './stack.js';
import { FileWatcher } from './watch.js';

/** What happened to a script: reported to `ScriptLoader.onEvent` listeners. */
export type ScriptEvent =
  | { readonly type: 'loaded'; readonly path: string; readonly version: number; readonly ms: number }
  | { readonly type: 'failed'; readonly path: string; readonly error: string }
  | { readonly type: 'removed'; readonly path: string };

/** What a Script needs from the loader that owns it. */
export interface ScriptHost {
  readonly kernel: Kernel;
  readonly log: Logger;
  readonly hostModules: ReadonlyMap<string, unknown>;
  readonly npm: NpmModules;
  readonly debounceMs: number;
  /** Put a first good version into the chain at this script's position. */
  add(script: Script, wrapper: object): Promise<void>;
  /** Run `work` after every earlier loader operation (loads never interleave). */
  enqueue(work: () => Promise<void>): Promise<void>;
  /** The file is gone: drop it from the `scripts` option. */
  vanished(script: Script): void;
  emit(event: ScriptEvent): void;
}

/** How many compiled versions keep their source maps (the current one and the one before). */
const KEEP_MAPS = 2;

/**
 * One script in the chain (mitmproxy's `Script` addon): compiles, evaluates and adds the
 * script's addons under a wrapper named `scriptmanager:<path>`, watches its files, and on change
 * swaps in the new version only once it has loaded and configured (`kernel.replace`), so a
 * broken save leaves the previous version running.
 */
export class Script {
  /** The wrapper currently in the chain, or null before the first good load. */
  wrapper: object | null = null;
  /** Versions that made it into the chain. */
  version = 0;
  private inputs: readonly string[] = [];
  private readonly maps: string[] = [];
  private readonly compiler: ScriptCompiler;
  private readonly watcher: FileWatcher;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly host: ScriptHost,
  ) {
    this.compiler = new ScriptCompiler(path, new Set(host.hostModules.keys()), host.npm);
    this.watcher = new FileWatcher(() => void host.enqueue(() => this.load()), host.debounceMs);
    this.watcher.set([path]);
  }

  /** Files watched for changes: the script and every relative module it bundles. */
  watchedFiles(): string[] {
    return this.watcher.files();
  }

  /** Compile, evaluate and (re)load. Never throws: failures are logged and reported. */
  async load(): Promise<void> {
    if (this.closed) return;
    const { kernel, log } = this.host;
    if (kernel.state === 'stopping' || kernel.state === 'done') return;
    if (!existsSync(this.path)) {
      this.host.vanished(this);
      return;
    }
    log.info(`Loading script ${this.path}`);
    // The global `performance`, not node:perf_hooks: that module costs ~0.4 MiB of RSS at start-up.
    const t0 = performance.now();
    let bundle;
    try {
      bundle = await this.compiler.build();
    } catch (err) {
      if (err instanceof ScriptBuildError) this.watcher.set(new Set([...this.inputs, this.path, ...err.files]));
      return this.fail(err);
    }
    if (this.closed) return;
    this.inputs = bundle.inputs;
    this.watcher.set(bundle.inputs);
    for (const w of bundle.warnings) log.warn(`script ${this.path}: ${w}`);
    const filename = bundleFilename(this.path);
    registerBundle(
      filename,
      new SourceMapLookup(bundle.map, (s) =>
        s.includes(':') && !s.startsWith('/') ? s : resolve(dirname(this.path), s),
      ),
    );
    let wrapper: object | null = null;
    try {
      const exports = evaluateBundle(bundle, this.path, filename, this.host.hostModules, this.host.npm);
      const addons = addonsFromExports(exports, this.path);
      for (const w of unfiredHookWarnings(addons, this.path)) log.warn(w);
      wrapper = { name: `scriptmanager:${this.path}`, addons };
      if (this.wrapper && kernel.addons.find(this.wrapper)) await kernel.replace(this.wrapper, wrapper);
      else await this.host.add(this, wrapper);
    } catch (err) {
      this.fail(err);
      // A first version whose configure threw has joined the chain anyway (as in mitmproxy,
      // it stays loaded with the error reported): keep track of it.
      if (wrapper && kernel.addons.find(wrapper)) this.keep(wrapper, filename);
      else unregisterBundle(filename);
      return;
    }
    this.keep(wrapper, filename);
    this.version++;
    this.host.emit({ type: 'loaded', path: this.path, version: this.version, ms: performance.now() - t0 });
  }

  /** Stop watching and, if its addons are in the chain, remove them (`done` fires). */
  async unload(): Promise<void> {
    this.close();
    const w = this.wrapper;
    this.wrapper = null;
    const { kernel } = this.host;
    if (w && kernel.addons.find(w) && kernel.state !== 'done' && kernel.state !== 'stopping') await kernel.remove(w);
    this.host.emit({ type: 'removed', path: this.path });
  }

  /** Stop watching and compiling (the kernel's shutdown fires `done` on the addons itself). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    void this.compiler.dispose();
    for (const m of this.maps.splice(0)) unregisterBundle(m);
  }

  private keep(wrapper: object, filename: string): void {
    this.wrapper = wrapper;
    this.maps.push(filename);
    while (this.maps.length > KEEP_MAPS) unregisterBundle(this.maps.shift()!);
  }

  private fail(err: unknown): void {
    const text = describeScriptError(this.path, err, this.inputs);
    this.host.log.error(text);
    this.host.emit({ type: 'failed', path: this.path, error: text });
  }
}
