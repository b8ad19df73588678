import { isBuiltin } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildContext, BuildFailure, BuildOptions, Message, Metafile, Plugin } from 'esbuild';
import { MitmtsError } from '@mitmts/sdk';
import type { RawSourceMap } from './sourcemap.js';

/**
 * Compiling a script: esbuild bundles the script and the relative modules it imports into one
 * CommonJS function body (kept in memory), with a source map. Host packages (`@mitmts/sdk`),
 * Node built-ins and `require()` calls stay external; npm packages imported beside the script
 * are imported once by Node itself (so they keep Node's ESM/CJS semantics and are never
 * re-evaluated on reload) and reach the bundle through a small re-export module.
 */

/** One compiled version of a script. */
export interface Bundle {
  /** The function body: run it with the parameters in {@link BUNDLE_PARAMS}. */
  readonly code: string;
  readonly map: RawSourceMap;
  /** Absolute paths of the script and every relative module bundled into it (to watch). */
  readonly inputs: readonly string[];
  /** esbuild warnings, formatted (file:line:col: text). */
  readonly warnings: readonly string[];
}

/** The free names a bundle's code expects, in order. */
export const BUNDLE_PARAMS = [
  'exports',
  'require',
  'module',
  '__filename',
  '__dirname',
  '__mitmts_npm',
  '__mitmts_meta',
] as const;

/** A build that esbuild rejected: syntax errors, unresolved imports, ... with their locations. */
export class ScriptBuildError extends MitmtsError {
  /** Files named by the errors (so a watcher can watch them even though the build failed). */
  readonly files: readonly string[];
  constructor(message: string, files: readonly string[]) {
    super('MITMTS_ERR_ADDON_LOAD', message);
    this.name = 'ScriptBuildError';
    this.files = files;
  }
}

/** Namespaces of npm packages a build imported, keyed by resolved file (shared across reloads). */
export type NpmModules = Map<string, Readonly<Record<string, unknown>>>;

type Esbuild = typeof import('esbuild');
let esbuildPromise: Promise<Esbuild> | null = null;

/** esbuild, imported on first use (a build without scripts never loads it). */
export function loadEsbuild(): Promise<Esbuild> {
  esbuildPromise ??= import('esbuild').catch((err: unknown) => {
    esbuildPromise = null;
    throw new MitmtsError(
      'MITMTS_ERR_ADDON_LOAD',
      `Scripts are compiled with esbuild, which cannot be loaded here (${(err as Error).message}). Install it beside mitmts: npm install esbuild.`,
    );
  });
  return esbuildPromise;
}

const NPM = 'mitmts-npm';
const SKIP = Symbol('mitmts-skip');
const IDENT = /^[A-Za-z_$][\w$]*$/;

function externals(host: ReadonlySet<string>, npm: NpmModules): Plugin {
  return {
    name: 'mitmts-externals',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === SKIP || isAbsolute(args.path)) return undefined;
        if (host.has(args.path) || isBuiltin(args.path)) return { path: args.path, external: true };
        // require() keeps Node's CommonJS semantics: resolved beside the script at run time.
        if (args.kind === 'require-call' || args.kind === 'require-resolve') return { path: args.path, external: true };
        const r = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: SKIP,
        });
        if (r.errors.length > 0 || r.external) {
          const pkg = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]!;
          return {
            errors: [
              {
                text: `Cannot find package "${args.path}" from ${args.resolveDir}. Install it beside the script: npm install ${pkg}`,
              },
            ],
          };
        }
        return { path: r.path, namespace: NPM };
      });
      build.onLoad({ filter: /.*/, namespace: NPM }, async (args) => {
        let ns = npm.get(args.path);
        if (!ns) {
          ns = (await import(pathToFileURL(args.path).href)) as Record<string, unknown>;
          npm.set(args.path, ns);
        }
        return { contents: reexports(args.path, Object.keys(ns)), loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

/** An ES module re-exporting a namespace Node has already loaded. */
function reexports(path: string, names: readonly string[]): string {
  const lines = [`const ns = __mitmts_npm(${JSON.stringify(path)});`];
  names.forEach((name, i) => {
    if (name === 'default') lines.push('export default ns.default;');
    else if (IDENT.test(name)) lines.push(`const e${i} = ns[${JSON.stringify(name)}];`, `export { e${i} as ${name} };`);
  });
  return lines.join('\n');
}

/** esbuild options for a script (exported for the custom-build tool and tests). */
export function scriptBuildOptions(
  path: string,
  host: ReadonlySet<string>,
  npm: NpmModules,
): BuildOptions & { metafile: true; write: false } {
  const dir = dirname(path);
  return {
    entryPoints: [path],
    absWorkingDir: dir,
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    outfile: resolve(dir, '__mitmts_script.js'),
    sourcemap: 'external',
    sourcesContent: false,
    metafile: true,
    keepNames: true,
    logLevel: 'silent',
    // Decorators as in addon packages; scripts never depend on a tsconfig.json beside them.
    tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: true } },
    define: {
      'import.meta.url': '__mitmts_meta.url',
      'import.meta.filename': '__mitmts_meta.filename',
      'import.meta.dirname': '__mitmts_meta.dirname',
    },
    plugins: [externals(host, npm)],
  };
}

/** Turn a finished build into a {@link Bundle}. */
export function toBundle(
  dir: string,
  outputs: ReadonlyArray<{ path: string; text: string }>,
  metafile: Metafile,
  warnings: readonly Message[],
): Bundle {
  const js = outputs.find((o) => o.path.endsWith('.js'));
  const map = outputs.find((o) => o.path.endsWith('.js.map'));
  if (!js || !map) throw new Error('esbuild produced no output for the script.');
  // The bundle never loads its map from disk: drop the trailing sourceMappingURL comment.
  const code = js.text.replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, '\n');
  const inputs = Object.keys(metafile.inputs)
    .filter((k) => !k.startsWith(`${NPM}:`))
    .map((k) => resolve(dir, k));
  return {
    code,
    map: JSON.parse(map.text) as RawSourceMap,
    inputs,
    warnings: warnings.map((w) => formatMessage(dir, w)),
  };
}

/**
 * An incremental compiler for one script (esbuild reuses its parse cache across rebuilds).
 * Dispose it when the script goes away.
 */
export class ScriptCompiler {
  private ctx: BuildContext<BuildOptions & { metafile: true; write: false }> | null = null;

  constructor(
    readonly path: string,
    private readonly host: ReadonlySet<string>,
    private readonly npm: NpmModules,
  ) {}

  /** Compile the current files. Throws {@link ScriptBuildError} with located messages. */
  async build(): Promise<Bundle> {
    const esbuild = await loadEsbuild();
    const dir = dirname(this.path);
    try {
      this.ctx ??= await esbuild.context(scriptBuildOptions(this.path, this.host, this.npm));
      const r = await this.ctx.rebuild();
      return toBundle(dir, r.outputFiles, r.metafile, r.warnings);
    } catch (err) {
      throw asBuildError(dir, err, this.path);
    }
  }

  async dispose(): Promise<void> {
    const ctx = this.ctx;
    this.ctx = null;
    if (ctx) await ctx.dispose().catch(() => undefined);
  }
}

/** Compile once (no incremental state), e.g. for `script.run`. */
export async function compileOnce(path: string, host: ReadonlySet<string>, npm: NpmModules): Promise<Bundle> {
  const esbuild = await loadEsbuild();
  const dir = dirname(path);
  try {
    const r = await esbuild.build(scriptBuildOptions(path, host, npm));
    return toBundle(dir, r.outputFiles, r.metafile, r.warnings);
  } catch (err) {
    throw asBuildError(dir, err, path);
  }
}

function asBuildError(dir: string, err: unknown, path: string): Error {
  const failure = err as Partial<BuildFailure>;
  if (!Array.isArray(failure.errors)) return err as Error;
  const files = new Set<string>([path]);
  for (const m of failure.errors)
    if (m.location && (m.location.namespace === 'file' || m.location.namespace === ''))
      files.add(resolve(dir, m.location.file));
  const text = failure.errors.map((m) => formatMessage(dir, m)).join('\n');
  return new ScriptBuildError(text || (err as Error).message, [...files]);
}

/** `/abs/file.ts:3:7: Expected ";" but found "x"`, then the line and a caret, like a compiler. */
export function formatMessage(dir: string, m: Message): string {
  const loc = m.location;
  if (!loc) return m.text;
  const file =
    loc.namespace === 'file' || loc.namespace === '' ? resolve(dir, loc.file) : `${loc.namespace}:${loc.file}`;
  const head = `${file}:${loc.line}:${loc.column + 1}: ${m.text}`;
  if (!loc.lineText) return head;
  return `${head}\n    ${loc.lineText}\n    ${' '.repeat(loc.column)}^`;
}
