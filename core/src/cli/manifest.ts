import type { AddonInput, Kernel } from '../kernel/kernel.js';
import { MitmtsError } from '../kernel/errors.js';

/** A distribution: which addons to load, and how to import them from where it lives. */
export interface Distribution {
  readonly name: string;
  readonly version: string;
  /** Module specifiers, in chain order (a manifest). */
  readonly addons: readonly string[];
  /** Imports a specifier as the distribution would (bare names resolve from its node_modules). */
  readonly importer: (specifier: string) => Promise<unknown>;
  /** Addons (objects or classes) added before the manifest's, e.g. the proxy runtime. */
  readonly builtins?: readonly AddonInput[];
  /**
   * Modules that register flow file formats when imported (e.g. `@mitmts/addon-store` for its
   * SQLite files), imported before `mitmts flows` or the proxy starts, so that both read those
   * files. Modules of the addon manifest need not be listed for the proxy, only for `flows`.
   */
  readonly flowFormats?: readonly string[];
}

/** Import the distribution's flow format modules (they register themselves). */
export async function loadFlowFormats(dist: Distribution): Promise<void> {
  for (const spec of dist.flowFormats ?? []) {
    try {
      await dist.importer(spec);
    } catch (err) {
      throw new MitmtsError(
        'MITMTS_ERR_MANIFEST',
        `Cannot load flow format package ${spec}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/** The addons a module provides: `export default` (one or an array) or `export const addons = [...]`. */
export function addonsOf(mod: unknown, from: string): AddonInput[] {
  const m = mod as { default?: unknown; addons?: unknown };
  const pick = m.addons ?? m.default;
  if (pick === undefined || pick === null) {
    throw new MitmtsError(
      'MITMTS_ERR_MANIFEST',
      `${from} exports no addon: export default an addon class (or an array), or export const addons = [...].`,
    );
  }
  return (Array.isArray(pick) ? pick : [pick]) as AddonInput[];
}

/** Import every manifest entry (in parallel) and add the addons in manifest order. */
export async function loadManifest(kernel: Kernel, dist: Distribution): Promise<void> {
  const modules = await Promise.all(
    dist.addons.map(async (spec) => {
      try {
        return [spec, await dist.importer(spec)] as const;
      } catch (err) {
        throw new MitmtsError('MITMTS_ERR_MANIFEST', `Cannot load addon package ${spec}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }),
  );
  if (dist.builtins) await kernel.add(...dist.builtins);
  for (const [spec, mod] of modules) await kernel.add(...addonsOf(mod, spec));
}
