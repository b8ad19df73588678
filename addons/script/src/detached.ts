import { LOG, MitmtsError, type AddonInput, type InjectionKey, type Kernel } from '@mitmts/sdk';
import { getClassMeta, type AddonRecord } from '@mitmts/sdk/host';

/**
 * Addons built outside the chain, for `script.run`: constructed with injection like the kernel
 * does, but never registered, so they get no `load` and declare nothing. Their `@option`
 * properties read the option's current value when the option exists.
 */
export function detachedRecord(kernel: Kernel, input: AddonInput, parent: AddonRecord | null = null): AddonRecord {
  const instance = typeof input === 'function' ? construct(kernel, input as new (...a: unknown[]) => object) : input;
  const meta = getClassMeta(instance.constructor);
  const ownName = (instance as { name?: unknown }).name;
  const name =
    meta.addon?.name ??
    (typeof ownName === 'string' && ownName ? ownName : instance.constructor.name.toLowerCase() || 'addon');
  for (const o of meta.options) {
    if (!kernel.options.has(o.spec.name)) continue;
    const optionName = o.spec.name;
    Object.defineProperty(instance, o.key, {
      configurable: true,
      enumerable: true,
      get: () => kernel.options.get(optionName),
    });
  }
  const children: AddonRecord[] = [];
  const record: AddonRecord = { name, instance, order: meta.addon?.order ?? 'normal', meta, children, parent };
  const kids = (instance as { addons?: unknown }).addons;
  if (Array.isArray(kids)) for (const k of kids) children.push(detachedRecord(kernel, k as AddonInput, record));
  return record;
}

function construct(kernel: Kernel, ctor: new (...a: unknown[]) => object): object {
  const meta = getClassMeta(ctor);
  const name = meta.addon?.name ?? ctor.name;
  const count = Math.max(ctor.length, meta.injects.length);
  const args: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const key = meta.injects[i] as InjectionKey | undefined;
    if (key === undefined) {
      throw new MitmtsError(
        'MITMTS_ERR_INJECT',
        `Cannot construct addon ${name}: constructor parameter ${i + 1} has no injection token. Add @inject(TOKEN) to it.`,
      );
    }
    args.push(key === LOG ? kernel.log.child(meta.addon?.name ?? ctor.name.toLowerCase()) : kernel.resolve(key));
  }
  return new ctor(...args);
}
