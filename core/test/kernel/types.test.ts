/**
 * Type-level tests: `npm test` type-checks this file (tsconfig.test.json), so every
 * `@ts-expect-error` below must really be an error, or the build fails. The runtime part only
 * checks that the classes exist.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { addon, command, hook, option } from '../../src/hooks/decorators.js';
import type { AddonHooks, HookMap } from '../../src/hooks/hookmap.js';
import type { HTTPFlow, TCPFlow, Flow } from '../../src/flow/index.js';
import type { Loader } from '../../src/hooks/data.js';

@addon({ name: 'typed' })
class Typed {
  @option({ type: 'bool', default: false, help: '' }) flag!: boolean;
  @option({ type: 'str[]', default: [], help: '' }) hosts!: readonly string[];
  @option({ type: 'int?', default: null, help: '' }) port!: number | null;

  // Right signatures compile.
  @hook('response') onResponse(_flow: HTTPFlow): void {}
  @hook('response') async onResponseAsync(_flow: HTTPFlow): Promise<void> {}
  @hook('response') fewerParams(): void {}
  @hook('response') baseType(_flow: Flow): void {}
  @hook('tcp_message') onTcp(_flow: TCPFlow): void {}
  @hook('configure') onConfigure(_updated: ReadonlySet<string>): void {}
  @hook('load') onLoad(_loader: Loader): void {}
  @command('typed.add', { args: ['int', 'str'] }) add(_n: number, _s: string): number {
    return 0;
  }
  @command('typed.flows', { args: ['flows', { name: 'level', type: 'int', optional: true }] }) flows(
    _f: Flow[],
    _l?: number,
  ): void {}

  // Wrong ones do not.
  // @ts-expect-error a response hook gets an HTTPFlow, not a TCPFlow
  @hook('response') wrongFlow(_flow: TCPFlow): void {}
  // @ts-expect-error a response hook gets one argument
  @hook('response') tooMany(_flow: HTTPFlow, _extra: string): void {}
  // @ts-expect-error a hook returns nothing or a promise
  @hook('response') returnsValue(_flow: HTTPFlow): number {
    return 1;
  }
  // @ts-expect-error configure gets the set of changed names
  @hook('configure') badConfigure(_updated: string): void {}
  // @ts-expect-error the command declares an int argument
  @command('typed.bad', { args: ['int'] }) bad(_s: string): void {}
  // @ts-expect-error the command declares no arguments but the method needs one
  @command('typed.bad2') bad2(_s: string): void {}
}

/** Decorating runs when the class is defined: a name TypeScript rejects also throws at run time. */
function defineTypo(): object {
  class Typo {
    // @ts-expect-error no such hook
    @hook('responsheaders') typo(_flow: HTTPFlow): void {}
  }
  return Typo;
}

class WrongOptionType {
  // @ts-expect-error a bool option on a string property
  @option({ type: 'bool', default: false, help: '' }) flag!: string;
  // @ts-expect-error the default must match the type
  @option({ type: 'int', default: 'one', help: '' }) count!: number;
}

class MitmproxyStyle implements AddonHooks {
  response(flow: HTTPFlow): void {
    void flow;
  }
  // @ts-expect-error implements AddonHooks checks hook methods named like hooks
  request(flow: TCPFlow): void {
    void flow;
  }
}

describe('typed hook map', () => {
  it('types each hook by its arguments', () => {
    expectTypeOf<HookMap['response']>().toEqualTypeOf<[flow: HTTPFlow]>();
    expectTypeOf<HookMap['tcp_message']>().toEqualTypeOf<[flow: TCPFlow]>();
    expectTypeOf<HookMap['running']>().toEqualTypeOf<[]>();
    expect([Typed, WrongOptionType, MitmproxyStyle].every((c) => typeof c === 'function')).toBe(true);
  });

  it('rejects a hook name that does not exist when the class is defined (untyped JavaScript)', () => {
    expect(defineTypo).toThrow(
      expect.objectContaining({
        code: 'MITMTS_ERR_UNKNOWN_HOOK',
        message: expect.stringContaining('@hook("responsheaders"): no such hook. Did you mean responseheaders?'),
      }),
    );
  });
});
