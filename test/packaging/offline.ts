/**
 * Installing the packed workspaces the way a user would, with no network and no access to this
 * repository's node_modules: `npm pack` every publishable workspace, then `npm ci --offline` in
 * an empty project outside the repository. Third-party packages come from the npm cache that
 * `npm ci` filled for this repository; the project's lockfile pins them to the versions of this
 * repository's lockfile (with their registry tarball URLs, which is what the cache is keyed by),
 * so no registry metadata is needed. Proxies point at a closed port: any network access fails.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { packAll, publishable, ROOT, type PackageJson } from '../../scripts/workspaces.mjs';
import { runCommand, type RunResult } from '../templates/run.js';

/** A closed port on loopback (discard): a proxy there refuses every connection at once. */
const NO_NETWORK = 'http://127.0.0.1:9';

/**
 * The environment for every command run in the offline project: offline npm, unreachable
 * proxies, and a PATH without this repository's `node_modules/.bin` (which `npm test` adds).
 */
export function offlineEnv(): Record<string, string> {
  const keep = [
    'HOME',
    'TMPDIR',
    'LANG',
    'LC_ALL',
    'USER',
    'npm_config_cache',
    'npm_config_registry',
    'npm_config_userconfig',
  ];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => p && !p.startsWith(ROOT.replace(/\/$/, '')) && !p.includes('/node_modules/'))
    .join(':');
  return {
    ...env,
    npm_config_offline: 'true',
    npm_config_proxy: NO_NETWORK,
    npm_config_https_proxy: NO_NETWORK,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'warn',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
}

/** Run a command to completion in the offline environment; stdout and stderr interleaved. */
export function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 240_000): Promise<RunResult> {
  return runCommand(cmd, args, cwd, offlineEnv(), timeoutMs);
}

/** A tarball `npm pack` made, with the package.json it holds. */
export interface Packed {
  readonly name: string;
  readonly version: string;
  readonly file: string;
  readonly pkg: PackageJson;
  /** The files inside, as `npm pack` listed them. */
  readonly files: readonly string[];
}

/** `npm pack` every publishable workspace into `dest`. */
export function packWorkspaces(dest: string): Packed[] {
  const spaces = publishable();
  return packAll(dest, offlineEnv()).map((p) => ({
    name: p.name,
    version: p.version,
    file: join(dest, p.filename),
    pkg: spaces.find((w) => w.pkg.name === p.name)!.pkg,
    files: p.files.map((f) => f.path),
  }));
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

/** The npm registry tarball URL of a package version (what the npm cache keys it by). */
function tarballUrl(registry: string, name: string, version: string): string {
  return `${registry.replace(/\/?$/, '/')}${name}/-/${basename(name)}-${version}.tgz`;
}

/**
 * Write `package.json` and `package-lock.json` for a project in `dir` that depends on the packed
 * tarballs and on `devDependencies` (names of third-party packages in this repository's
 * lockfile, pinned to their locked versions). Every package the install needs is in the lock,
 * so `npm ci --offline` fetches tarballs only, by URL and integrity, from the npm cache.
 */
export function writeOfflineProject(dir: string, packed: readonly Packed[], devDependencies: readonly string[]): void {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const registry = process.env.npm_config_registry ?? 'https://registry.npmjs.org/';
  const ours = new Map(packed.map((p) => [p.name, p]));
  const packages: Record<string, LockEntry> = {};

  const edges = (e: LockEntry): Array<[string, boolean]> => [
    ...Object.keys(e.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
    ...Object.keys(e.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
    ...Object.keys(e.peerDependencies ?? {}).map((n): [string, boolean] => [
      n,
      e.peerDependenciesMeta?.[n]?.optional === true,
    ]),
  ];
  const add = (name: string, optional: boolean, from: string): void => {
    const key = `node_modules/${name}`;
    if (packages[key]) return;
    let entry: LockEntry;
    const p = ours.get(name);
    if (p) {
      const { dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta, bin, engines, license } =
        p.pkg;
      entry = {
        version: p.version,
        resolved: `file:${relative(dir, p.file)}`,
        integrity: `sha512-${createHash('sha512').update(readFileSync(p.file)).digest('base64')}`,
      };
      Object.assign(
        entry,
        JSON.parse(
          JSON.stringify({
            license,
            dependencies,
            optionalDependencies,
            peerDependencies,
            peerDependenciesMeta,
            bin,
            engines,
          }),
        ),
      );
    } else {
      const locked = repoLock.packages[key];
      if (!locked || locked.link) {
        if (optional) return;
        throw new Error(`${name} (needed by ${from}) is not in package-lock.json: run npm install in the repository.`);
      }
      // dev/devOptional/peer describe the repository's tree, not this project's: npm recomputes them.
      entry = Object.fromEntries(
        Object.entries(locked).filter(([k]) => k !== 'dev' && k !== 'devOptional' && k !== 'peer'),
      );
      entry.resolved = tarballUrl(registry, name, locked.version!);
    }
    packages[key] = entry;
    for (const [dep, opt] of edges(entry)) add(dep, opt, name);
  };

  const deps = Object.fromEntries(packed.map((p) => [p.name, `file:${relative(dir, p.file)}`]));
  const devDeps = Object.fromEntries(
    devDependencies.map((n) => [n, repoLock.packages[`node_modules/${n}`]?.version ?? 'missing']),
  );
  for (const n of Object.keys(deps)) add(n, false, 'the project');
  for (const n of Object.keys(devDeps)) add(n, false, 'the project');
  // zstd-napi (optional) compiles zstd from source when no prebuilt binary can be downloaded:
  // minutes of CPU. Denying its build script also shows that mitmts runs without it.
  const pkg = {
    name: 'offline-project',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: deps,
    devDependencies: devDeps,
    allowScripts: { 'zstd-napi': false },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const lock = {
    name: pkg.name,
    version: pkg.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: pkg.name, version: pkg.version, dependencies: deps, devDependencies: devDeps },
      ...packages,
    },
  };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}
