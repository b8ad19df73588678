import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_PARAMS, type Bundle, type NpmModules } from './bundle.js';

let vmModule: typeof import('node:vm') | undefined;
/** node:vm, loaded with the first script: a proxy without scripts never needs it. */
function vm(): typeof import('node:vm') {
  return (vmModule ??= createRequire(import.meta.url)('node:vm') as typeof import('node:vm'));
}

/**
 * Run a bundle as a CommonJS module in this realm (so `instanceof`, Buffers and the host's SDK
 * classes are the real ones) and return its exports. `vm.compileFunction` code is collected
 * with its last reference, unlike cache-busted `import()` URLs, so reloading keeps memory flat.
 *
 * @param filename the name stack frames carry (mapped back to the sources by `stack.ts`)
 * @param host modules the script gets from the running proxy itself (`@mitmts/sdk`)
 */
export function evaluateBundle(
  bundle: Bundle,
  scriptPath: string,
  filename: string,
  host: ReadonlyMap<string, unknown>,
  npm: NpmModules,
): Record<string, unknown> {
  const nodeRequire = createRequire(scriptPath);
  const require = Object.assign(
    (id: string): unknown => {
      if (host.has(id)) return host.get(id);
      return nodeRequire(id);
    },
    { resolve: nodeRequire.resolve, cache: nodeRequire.cache },
  );
  const module = { exports: {} as Record<string, unknown>, id: scriptPath, filename: scriptPath };
  const meta = { url: pathToFileURL(scriptPath).href, filename: scriptPath, dirname: dirname(scriptPath) };
  const npmLookup = (path: string): unknown => {
    const ns = npm.get(path);
    if (!ns) throw new Error(`mitmts: package module ${path} was not preloaded.`);
    return ns;
  };
  const fn = vm().compileFunction(bundle.code, [...BUNDLE_PARAMS], { filename });
  fn.call(module.exports, module.exports, require, module, scriptPath, dirname(scriptPath), npmLookup, meta);
  return module.exports;
}
