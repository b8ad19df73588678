import { fileURLToPath } from 'node:url';
import { VERSION } from '../version.js';

/**
 * State that must be one per process even when two copies of @mitmts/core are loaded (an addon
 * installed from a folder, or a script's npm package, brings its own): decorator metadata and
 * the kernel `ctx` points at. Keyed by `Symbol.for`, the first copy to load creates it and every
 * later copy uses it, so an addon decorated with copy B's `@hook` works in copy A's kernel.
 */
export interface Registry {
  /** This object's layout; a copy that finds another layout cannot share it. */
  readonly layout: 1;
  /** Decorator metadata by class (`hooks/decorators.ts` owns its type). */
  readonly classMeta: WeakMap<object, unknown>;
  /** The kernel that most recently dispatched a hook (`kernel/context.ts` owns its type). */
  currentKernel: unknown;
  /** Every copy of @mitmts/core loaded in this process. */
  readonly copies: Array<{ readonly path: string; readonly version: string }>;
}

const KEY = Symbol.for('mitmts.registry');

function open(): Registry {
  const g = globalThis as { [KEY]?: Registry };
  const found = g[KEY];
  const self = { path: fileURLToPath(import.meta.url), version: VERSION };
  if (found === undefined) {
    const created: Registry = { layout: 1, classMeta: new WeakMap(), currentKernel: undefined, copies: [self] };
    Object.defineProperty(g, KEY, { value: created });
    return created;
  }
  if (found.layout !== 1) {
    throw new Error(
      `@mitmts/core ${VERSION} (${self.path}) cannot share this process with another copy of incompatible version (${found.copies.map((c) => `${c.version} at ${c.path}`).join(', ')}): install one version of @mitmts/core (npm ls @mitmts/core shows who brings which; addons should peer-depend on @mitmts/sdk).`,
    );
  }
  const other = found.copies.find((c) => c.version !== VERSION);
  if (other) {
    process.emitWarning(
      `Two versions of @mitmts/core are loaded: ${other.version} at ${other.path} and ${VERSION} at ${self.path}. They share decorator metadata and kernel state, but mixing versions is untested: install one version (npm ls @mitmts/core shows who brings which; addons should peer-depend on @mitmts/sdk).`,
      { code: 'MITMTS_DUPLICATE_CORE' },
    );
  }
  found.copies.push(self);
  return found;
}

/** The process-wide registry (created by the first copy of @mitmts/core to load). */
export const registry: Registry = open();
