/**
 * defineAddon: run-time behaviour through the harness, and type checks. `npm test` type-checks
 * this file (tsconfig.test.json), so each `@ts-expect-error` must really be an error.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineAddon, type HTTPFlow, type TCPFlow } from '@mitmts/sdk';
import { tflow, withAddon } from '@mitmts/sdk/testing';

const Stamp = defineAddon({
  name: 'stamp',
  description: 'Stamps responses.',
  options: {
    stamp_value: { type: 'str', default: 'mitmts', help: 'Value of the x-stamp header.' },
    stamp_limit: { type: 'int?', default: null, help: 'Stamp at most this many responses.' },
  },
  hooks: {
    response(flow) {
      expectTypeOf(flow).toEqualTypeOf<HTTPFlow>();
      expectTypeOf(this.options.stamp_value).toEqualTypeOf<string>();
      expectTypeOf(this.options.stamp_limit).toEqualTypeOf<number | null>();
      flow.response?.headers.set('x-stamp', this.options.stamp_value);
      this.log.info(`stamped ${flow.request.path}`);
    },
    configure(updated) {
      expectTypeOf(updated).toEqualTypeOf<ReadonlySet<string>>();
    },
  },
  commands: {
    'stamp.set': {
      help: 'Set the stamp.',
      args: ['str'],
      run(value) {
        expectTypeOf(value).toEqualTypeOf<string>();
        this.options.stamp_value = value;
      },
    },
    'stamp.twice': { args: ['int'], returns: 'int', run: (n) => n * 2 },
  },
});

describe('defineAddon', () => {
  it('declares its options, runs its hooks with typed options and a scoped log, and registers its commands', async () => {
    const tctx = await withAddon(Stamp);
    expect(tctx.kernel.options.info('stamp_value')).toMatchObject({ type: 'str', default: 'mitmts', owner: 'stamp' });
    expect(tctx.kernel.options.info('stamp_limit')).toMatchObject({ type: 'int?', default: null });
    const f = tflow({ resp: true });
    await tctx.trigger('response', f);
    expect(f.response!.headers.get('x-stamp')).toBe('mitmts');
    expect(tctx.logs.find((e) => e.message === 'stamped /path')?.addon).toBe('stamp');

    await tctx.command('stamp.set hello');
    expect(tctx.kernel.options.get('stamp_value')).toBe('hello');
    expect(await tctx.command('stamp.twice 21')).toBe(42);
    const g = tflow({ resp: true });
    await tctx.trigger('response', g);
    expect(g.response!.headers.get('x-stamp')).toBe('hello');
    await tctx.done();
  });

  it('gives each kernel its own instance and option values', async () => {
    const [a, b] = await Promise.all([withAddon(Stamp), withAddon(Stamp)]);
    a.configure({ stamp_value: 'a' });
    const f = tflow({ resp: true });
    await b.trigger('response', f);
    expect(f.response!.headers.get('x-stamp')).toBe('mitmts');
    await Promise.all([a.done(), b.done()]);
  });

  it('rejects an unknown hook name at compile time and, for untyped code, at run time with the close names', () => {
    const define = (): unknown =>
      defineAddon({
        name: 'typo',
        // @ts-expect-error no such hook
        hooks: { responze() {} },
      });
    expect(define).toThrow(
      expect.objectContaining({
        code: 'MITMTS_ERR_UNKNOWN_HOOK',
        message: expect.stringContaining('defineAddon typo: hooks.responze is no hook. Did you mean response?'),
      }),
    );
  });

  it('type-checks hooks, options and commands as the decorators do', () => {
    const defs = [
      defineAddon({
        name: 'bad2',
        hooks: {
          // @ts-expect-error a response hook gets an HTTPFlow, not a TCPFlow
          response(_flow: TCPFlow) {},
        },
      }),
      defineAddon({
        name: 'bad3',
        hooks: {
          // @ts-expect-error a hook returns nothing or a promise
          request: () => 1,
        },
      }),
      defineAddon({
        name: 'bad4',
        options: {
          // @ts-expect-error the default must fit the option's type
          bad4_n: { type: 'int', default: 'one', help: '' },
        },
      }),
      defineAddon({
        name: 'bad5',
        options: { bad5_on: { type: 'bool', default: false, help: '' } },
        hooks: {
          request() {
            // @ts-expect-error no such option
            void this.options.bad5_off;
            // @ts-expect-error a bool option holds a boolean
            this.options.bad5_on = 'yes';
          },
        },
      }),
      defineAddon({
        name: 'bad6',
        commands: {
          // @ts-expect-error the command declares an int argument
          'bad6.run': { args: ['int'], run: (_s: string) => undefined },
        },
      }),
    ];
    expect(defs.every((d) => typeof d === 'function')).toBe(true);
  });
});
