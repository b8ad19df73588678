import { describe, expect, it } from 'vitest';
import { addonsFromExports, scriptStem } from '../src/exports.js';

class A {}
const b = { name: 'b' };
const request = (): void => undefined;

describe('addonsFromExports', () => {
  it.each([
    ['a default class', { default: A }, [A]],
    ['a default array', { default: [A, b] }, [A, b]],
    ['export const addons', { addons: [b] }, [b]],
    ['addons and a default, each once', { addons: [A], default: A }, [A]],
  ])('takes %s', (_what, exports, expected) => {
    expect(addonsFromExports(exports, '/x/s.ts')).toEqual(expected);
  });

  it('gathers module-level hook functions into one addon named after the file', () => {
    const [mod, other] = addonsFromExports({ request, helper: () => 1, addons: [b] }, '/x/my-script.ts') as [Record<string, unknown>, unknown];
    expect(mod).toEqual({ name: 'my-script', request });
    expect(other).toBe(b);
  });

  it('uses an exported name for the module addon', () => {
    expect(addonsFromExports({ request, name: 'mine' }, '/x/s.ts')).toEqual([{ name: 'mine', request }]);
  });

  it.each([
    ['nothing', {}, /provides no addon/],
    ['a non-array addons', { addons: b }, /must be an array/],
    ['a number', { default: 3 }, /the default export must be an addon/],
    ['null in addons', { addons: [null] }, /addons\[0\] must be an addon .*got null/],
  ])('rejects %s', (_what, exports, message) => {
    let err: unknown;
    try {
      addonsFromExports(exports, '/x/s.ts');
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('MITMTS_ERR_ADDON_INVALID');
    expect((err as Error).message).toMatch(message);
  });

  it('names scripts by their stem', () => {
    expect(scriptStem('/a/b/c.test.mts')).toBe('c.test');
  });
});
