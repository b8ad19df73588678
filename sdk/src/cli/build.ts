import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIO, Subcommand } from '@mitmts/core';

/**
 * `mitmts build`: bundle the kernel, the proxy runtime and a manifest's addons into one ES
 * module that runs with `node proxy.mjs` and nothing installed beside it (the mitmdump command
 * line, with exactly those addons).
 */

/** A custom build's manifest (`mitmts.json`). */
export interface BuildManifest {
  /** Shown by `--version`. */
  readonly name: string;
  readonly version?: string;
  /**
   * Addon modules in chain order: package names (`@mitmts/addon-anticache`) or paths relative to
   * the manifest (`./src/my-addon.ts`). Each exports its addons like a script does.
   */
  readonly addons: readonly string[];
}

export interface BuildProxyOptions {
  /** Path of the manifest file. */
  readonly manifest: string;
  /** Output file (an ES module, e.g. `dist/proxy.mjs`). */
  readonly outfile: string;
  readonly minify?: boolean;
  /** Extra directories to resolve packages from (default: those of this mitmts installation). */
  readonly nodePaths?: readonly string[];
}

export interface BuildProxyResult {
  readonly outfile: string;
  readonly bytes: number;
  /** Input files bundled (relative to the manifest's directory). */
  readonly inputs: number;
  readonly warnings: readonly string[];
}

/** Read and check a manifest; errors name the file and the field. */
export function readManifest(path: string): BuildManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the build manifest ${path}: ${(err as Error).message}`);
  }
  const m = raw as Partial<BuildManifest> | null;
  if (!m || typeof m !== 'object')
    throw new Error(`${path}: a manifest is a JSON object: { "name": "...", "addons": ["..."] }.`);
  if (typeof m.name !== 'string' || !m.name) throw new Error(`${path}: "name" must be a non-empty string.`);
  if (m.version !== undefined && typeof m.version !== 'string') throw new Error(`${path}: "version" must be a string.`);
  if (!Array.isArray(m.addons) || m.addons.some((a) => typeof a !== 'string' || !a)) {
    throw new Error(
      `${path}: "addons" must be a list of module names or relative paths, e.g. ["@mitmts/addon-anticache", "./src/my-addon.ts"].`,
    );
  }
  return { name: m.name, addons: m.addons, ...(m.version !== undefined ? { version: m.version } : {}) };
}

/**
 * The generated entry module: static imports of every addon, then the mitmdump command line
 * with the `run` subcommand (`mitmts run -- COMMAND` works with every build).
 */
export function entrySource(manifest: BuildManifest): string {
  const lines = [`import { main, ProxyServer } from '@mitmts/core';`, `import { runCommand } from '@mitmts/sdk/run';`];
  manifest.addons.forEach((spec, i) => lines.push(`import * as addon${i} from ${JSON.stringify(spec)};`));
  lines.push(
    `const modules = new Map([${manifest.addons.map((spec, i) => `[${JSON.stringify(spec)}, addon${i}]`).join(', ')}]);`,
    `const dist = {`,
    `  name: ${JSON.stringify(manifest.name)},`,
    `  version: ${JSON.stringify(manifest.version ?? '0.0.0')},`,
    `  addons: [...modules.keys()],`,
    `  importer: async (spec) => modules.get(spec),`,
    `  builtins: [ProxyServer],`,
    `};`,
    `const io = { get stdout() { return process.stdout; }, get stderr() { return process.stderr; } };`,
    `const code = await main(process.argv.slice(2), dist, io, { run: runCommand(dist) });`,
    `process.exitCode = code;`,
    `setTimeout(() => process.exit(code), 1000).unref();`,
  );
  return lines.join('\n');
}

/** `node_modules` folders above this package: where the running mitmts finds its packages. */
export function installationNodePaths(): string[] {
  const out: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const nm = join(dir, 'node_modules');
    if (existsSync(nm) && statSync(nm).isDirectory()) out.push(nm);
    const up = dirname(dir);
    if (up === dir) return out;
    dir = up;
  }
}

/** Bundle a manifest into one runnable file. */
export async function buildProxy(opts: BuildProxyOptions): Promise<BuildProxyResult> {
  const manifestPath = resolve(opts.manifest);
  const manifest = readManifest(manifestPath);
  const dir = dirname(manifestPath);
  const esbuild = await import('esbuild');
  const outfile = resolve(opts.outfile);
  try {
    const r = await esbuild.build({
      stdin: {
        contents: entrySource(manifest),
        resolveDir: dir,
        sourcefile: `${manifest.name}-entry.mjs`,
        loader: 'js',
      },
      absWorkingDir: dir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      write: true,
      metafile: true,
      minify: opts.minify ?? false,
      keepNames: true,
      legalComments: 'eof',
      logLevel: 'silent',
      nodePaths: [...(opts.nodePaths ?? installationNodePaths())],
      // CommonJS dependencies (node-forge, tsyringe) call require(): give the ES module one.
      banner: {
        js: `import { createRequire as __mitmtsCreateRequire } from 'node:module';\nconst require = __mitmtsCreateRequire(import.meta.url);`,
      },
      // The script addon compiles scripts with esbuild, a native tool: it loads it when needed.
      external: ['esbuild'],
      tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: true } },
    });
    return {
      outfile,
      bytes: statSync(outfile).size,
      inputs: Object.keys(r.metafile.inputs).length,
      warnings: r.warnings.map((w) => (w.location ? `${w.location.file}:${w.location.line}: ${w.text}` : w.text)),
    };
  } catch (err) {
    const errors = (
      err as { errors?: Array<{ text: string; location: { file: string; line: number; column: number } | null }> }
    ).errors;
    if (!Array.isArray(errors)) throw err;
    throw new Error(
      `mitmts build failed (${manifestPath}):\n${errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ${e.text}` : e.text)).join('\n')}`,
    );
  }
}

const BUILD_USAGE = `usage: mitmts build --manifest mitmts.json -o proxy.mjs [--minify]

Bundle the kernel, the proxy runtime and the manifest's addons into one file that runs with
\`node proxy.mjs\` (the mitmdump command line) and needs nothing installed beside it.
The manifest: { "name": "myproxy", "version": "1.0.0", "addons": ["@mitmts/addon-anticache", "./src/my-addon.ts"] }
`;

/** The `build` subcommand for a distribution's `main(argv, dist, io, subcommands)`. */
export function buildCommand(defaults: { nodePaths?: readonly string[] } = {}): Subcommand {
  return async (argv: string[], io: CliIO): Promise<number> => {
    let manifest: string | undefined;
    let outfile: string | undefined;
    let minify = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '-h' || a === '--help') {
        io.stdout.write(BUILD_USAGE);
        return 0;
      } else if (a === '--manifest' || a === '-m') manifest = argv[++i];
      else if (a === '-o' || a === '--outfile') outfile = argv[++i];
      else if (a === '--minify') minify = true;
      else {
        io.stderr.write(`mitmts build: unknown argument ${a}\n\n${BUILD_USAGE}`);
        return 2;
      }
    }
    if (!manifest || !outfile) {
      io.stderr.write(`mitmts build: --manifest and -o are required.\n\n${BUILD_USAGE}`);
      return 2;
    }
    try {
      const r = await buildProxy({
        manifest,
        outfile,
        minify,
        ...(defaults.nodePaths ? { nodePaths: defaults.nodePaths } : {}),
      });
      for (const w of r.warnings) io.stderr.write(`warning: ${w}\n`);
      io.stdout.write(
        `Built ${r.outfile} (${(r.bytes / 1024).toFixed(0)} KiB, ${r.inputs} modules). Run it with: node ${r.outfile}\n`,
      );
      return 0;
    } catch (err) {
      io.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
  };
}
