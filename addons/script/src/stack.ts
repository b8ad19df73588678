import type { SourceMapLookup } from './sourcemap.js';

/**
 * Stack traces for code evaluated with `vm`: Node's `--enable-source-maps` does not apply there,
 * so frames of registered bundles are mapped here, through `Error.prepareStackTrace`, to the
 * user's files and lines. Frames of other code pass through untouched, and a previously
 * installed `prepareStackTrace` (vitest's, source-map-support's) still formats the result.
 *
 * The hook is process-wide by nature; it is installed while at least one bundle is registered.
 */

type Prepare = (err: Error, sites: NodeJS.CallSite[]) => unknown;

const bundles = new Map<string, SourceMapLookup>();
let previous: Prepare | undefined;
let installed = false;

let counter = 0;

/** A file name for a new bundle of `path`, unique in this process (two kernels may load one script). */
export function bundleFilename(path: string, kind = 'script'): string {
  return `${path}.mitmts-${kind}-${++counter}.cjs`;
}

/** Map frames whose file name is `filename` through `map` (until unregistered). */
export function registerBundle(filename: string, map: SourceMapLookup): void {
  bundles.set(filename, map);
  if (!installed) {
    previous = Error.prepareStackTrace as Prepare | undefined;
    Error.prepareStackTrace = prepare;
    installed = true;
  }
}

/** Stop mapping a bundle; the hook is removed with the last one (if nobody replaced it since). */
export function unregisterBundle(filename: string): void {
  bundles.delete(filename);
  if (bundles.size === 0 && installed) {
    const E = Error as { prepareStackTrace?: Prepare };
    if (E.prepareStackTrace === prepare) E.prepareStackTrace = previous;
    previous = undefined;
    installed = false;
  }
}

/** How many bundles are registered (tests check that reloads do not pile them up). */
export function registeredBundles(): number {
  return bundles.size;
}

function prepare(err: Error, sites: NodeJS.CallSite[]): unknown {
  const mapped = sites.map(mapSite);
  if (previous) return previous(err, mapped);
  let header: string;
  try {
    header = Error.prototype.toString.call(err);
  } catch {
    header = '<error>';
  }
  return header + mapped.map((s) => `\n    at ${s}`).join('');
}

function mapSite(site: NodeJS.CallSite): NodeJS.CallSite {
  const file = site.getFileName();
  if (!file) return site;
  const map = bundles.get(file);
  if (!map) return site;
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (line === null || column === null) return site;
  const pos = map.originalPosition(line, column);
  if (!pos) return site;
  return new Proxy(site, {
    get(target, key) {
      switch (key) {
        case 'getFileName':
        case 'getScriptNameOrSourceURL':
          return () => pos.source;
        case 'getLineNumber':
          return () => pos.line;
        case 'getColumnNumber':
          return () => pos.column;
        case 'toString':
          return () =>
            target.toString().replace(`${file}:${line}:${column}`, `${pos.source}:${pos.line}:${pos.column}`);
        default: {
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
      }
    },
  });
}
