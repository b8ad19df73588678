import { editDistance } from '../kernel/errors.js';
import { getClassMeta } from './decorators.js';
import { HOOK_NAMES, isHookName, type HookName } from './hookmap.js';

/** `responseHeaders`, `Response_Headers` -> `responseheaders`: how a hook name is compared. */
const normalize = (name: string): string => name.toLowerCase().replace(/_/g, '');
const NORMALIZED = new Map<string, HookName>(HOOK_NAMES.map((h) => [normalize(h), h]));

/**
 * The hook a function name was probably meant to be, or null: the same name in another case or
 * without underscores (`responseHeaders`), or one or two typing slips away (`responze`,
 * `reqeust`; two only for names of eight letters or more). For names that are not hooks.
 */
export function looksLikeHook(name: string): HookName | null {
  if (isHookName(name)) return null;
  const n = normalize(name);
  const same = NORMALIZED.get(n);
  if (same) return same;
  if (n.length < 5) return null;
  const limit = n.length >= 8 ? 2 : 1;
  let best: HookName | null = null;
  let bestDistance = limit + 1;
  for (const [norm, hook] of NORMALIZED) {
    const d = editDistance(n, norm);
    if (d < bestDistance) [best, bestDistance] = [hook, d];
  }
  return best;
}

/**
 * The hooks an addon handles: its `@hook` methods and its methods named like a hook. Takes an
 * instance, a plain object, or a class (its prototype is inspected).
 */
export function handledHooks(addon: object): HookName[] {
  const isClass = typeof addon === 'function';
  const target = (isClass ? (addon as { prototype?: object }).prototype : addon) as Record<string, unknown> | undefined;
  const out = new Set<HookName>(getClassMeta(isClass ? addon : addon.constructor).hooks.map((h) => h.hook));
  for (const name of HOOK_NAMES) if (typeof target?.[name] === 'function') out.add(name);
  return [...out];
}
