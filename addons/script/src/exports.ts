import { basename, extname } from 'node:path';
import { isHookName, MitmtsError, type AddonInput } from '@mitmts/sdk';

/**
 * The addons a script module provides, in this order:
 * 1. module-level functions named like hooks (`export function request(flow) {}`), gathered
 *    into one addon named after the file (mitmproxy's "the module is the addon");
 * 2. `export const addons = [...]`;
 * 3. `export default` an addon (class or instance) or an array of them.
 * The same object exported twice counts once. A module providing none is an error.
 */
export function addonsFromExports(exports: Readonly<Record<string, unknown>>, path: string): AddonInput[] {
  const out: AddonInput[] = [];
  const seen = new Set<unknown>();
  const push = (a: unknown, where: string): void => {
    if (seen.has(a)) return;
    if (a === null || (typeof a !== 'object' && typeof a !== 'function')) {
      throw new MitmtsError('MITMTS_ERR_ADDON_INVALID', `${path}: ${where} must be an addon (a class or an object), got ${a === null ? 'null' : typeof a}.`);
    }
    seen.add(a);
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
  if (hasHooks) push({ name: typeof exports.name === 'string' && exports.name ? exports.name : scriptStem(path), ...hooks }, 'the module');
  const list = exports.addons;
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new MitmtsError('MITMTS_ERR_ADDON_INVALID', `${path}: export const addons must be an array of addons.`);
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

/** `/a/b/my-script.ts` -> `my-script`. */
export function scriptStem(path: string): string {
  return basename(path, extname(path));
}
