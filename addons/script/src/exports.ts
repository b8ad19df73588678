import { basename, extname } from 'node:path';
import { handledHooks, isHookName, looksLikeHook, MitmtsError, UNFIRED_HOOKS, type AddonInput } from '@mitmts/sdk';

/**
 * The addons a script module provides, in this order:
 * 1. module-level functions named like hooks (`export function request(flow) {}`), gathered
 *    into one addon named after the file (mitmproxy's "the module is the addon");
 * 2. `export const addons = [...]`;
 * 3. `export default` an addon (class or instance) or an array of them.
 * The same object exported twice counts once. A module providing none is an error, and so is
 * a function (exported, or on an object addon) named almost like a hook (`responze`,
 * `responseHeaders`): it would never run.
 */
export function addonsFromExports(exports: Readonly<Record<string, unknown>>, path: string): AddonInput[] {
  const out: AddonInput[] = [];
  const seen = new Set<unknown>();
  const push = (a: unknown, where: string): void => {
    if (seen.has(a)) return;
    if (a === null || (typeof a !== 'object' && typeof a !== 'function')) {
      throw new MitmtsError(
        'MITMTS_ERR_ADDON_INVALID',
        `${path}: ${where} must be an addon (a class or an object), got ${a === null ? 'null' : typeof a}.`,
      );
    }
    seen.add(a);
    if (Object.getPrototypeOf(a) === Object.prototype)
      rejectLookalikes(a as Record<string, unknown>, path, `${where}'s method`);
    out.push(a as AddonInput);
  };
  const hooks: Record<string, unknown> = {};
  let hasHooks = false;
  for (const key of Object.keys(exports)) {
    if (key === 'default' || key === 'addons') continue;
    if (isHookName(key) && typeof exports[key] === 'function') {
      hooks[key] = exports[key];
      hasHooks = true;
    }
  }
  rejectLookalikes(exports, path, 'export function');
  if (hasHooks)
    push(
      { name: typeof exports.name === 'string' && exports.name ? exports.name : scriptStem(path), ...hooks },
      'the module',
    );
  const list = exports.addons;
  if (list !== undefined) {
    if (!Array.isArray(list))
      throw new MitmtsError('MITMTS_ERR_ADDON_INVALID', `${path}: export const addons must be an array of addons.`);
    list.forEach((a, i) => push(a, `addons[${i}]`));
  }
  const def = exports.default;
  if (def !== undefined) {
    if (Array.isArray(def)) def.forEach((a, i) => push(a, `the default export's item ${i}`));
    else push(def, 'the default export');
  }
  if (out.length === 0) {
    throw new MitmtsError(
      'MITMTS_ERR_ADDON_INVALID',
      `${path} provides no addon: export default an addon (a class, an object, or an array of them), export const addons = [...], or export functions named like hooks (export function request(flow) {}).`,
    );
  }
  return out;
}

/** Throw for a function named almost like a hook, saying which hook it resembles. */
function rejectLookalikes(obj: Readonly<Record<string, unknown>>, path: string, what: string): void {
  for (const key of Object.keys(obj)) {
    const hook = typeof obj[key] === 'function' ? looksLikeHook(key) : null;
    if (hook) {
      throw new MitmtsError(
        'MITMTS_ERR_UNKNOWN_HOOK',
        `${path}: ${what} ${key} is no hook. Did you mean ${hook}? A hook runs only under its exact name (see docs/hooks.md); rename it, or if it is a helper, rename it or do not export it.`,
      );
    }
  }
}

/**
 * Warnings for hooks the addons handle but this build never fires (a protocol not built yet),
 * children included: the script loads, but those handlers will not run.
 */
export function unfiredHookWarnings(addons: readonly AddonInput[], path: string): string[] {
  const out: string[] = [];
  const visit = (a: AddonInput): void => {
    for (const hook of handledHooks(a)) {
      const why = UNFIRED_HOOKS.get(hook);
      if (why) out.push(`script ${path}: the ${hook} hook never fires in this build (${why}).`);
    }
    const kids = (typeof a === 'function' ? null : (a as { addons?: unknown }).addons) ?? null;
    if (Array.isArray(kids)) kids.forEach((k) => visit(k as AddonInput));
  };
  addons.forEach(visit);
  return [...new Set(out)];
}

/** `/a/b/my-script.ts` -> `my-script`. */
export function scriptStem(path: string): string {
  return basename(path, extname(path));
}
