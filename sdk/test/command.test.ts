import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { addon, command, CommandError, createProxy, type EmbeddedProxy, type Flow } from '../src/index.js';
import { tflow } from '../src/testing.js';

@addon({ name: 'calc' })
class Calc {
  @command('calc.add', { args: ['int', 'int'], returns: 'int' })
  add(a: number, b: number): number {
    return a + b;
  }

  @command('calc.count', { args: ['flows'], returns: 'int' })
  count(flows: Flow[]): number {
    return flows.length;
  }

  @command('calc.join', { args: ['str', 'str[]'], returns: 'str' })
  join(sep: string, words: string[]): string {
    return words.join(sep);
  }

  @command('calc.fail')
  fail(): void {
    throw new Error('broken on purpose');
  }
}

declare module '../src/index.js' {
  interface CommandSignatures {
    'calc.add': (a: number, b: number) => number;
  }
}

describe('createProxy().command()', () => {
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    proxy = await createProxy({ addons: [Calc] });
    proxy.flows.add(tflow());
    proxy.flows.add(tflow());
  });
  afterAll(() => proxy.close());

  it('takes typed values as they are and parses strings by the declared type', async () => {
    expect(await proxy.command('calc.add', 2, 3)).toBe(5);
    expect(await proxy.command('calc.add', '2', 3)).toBe(5);
    expect(await proxy.command('calc.count', '@all')).toBe(2);
    expect(await proxy.command('calc.count', proxy.flows.all().slice(0, 1))).toBe(1);
    expect(await proxy.command('calc.join', '-', 'a', 'b', 'c')).toBe('a-b-c');
    expect(await proxy.command('calc.join', '-', ['a', 'b'])).toBe('a-b');
  });

  it('types the result of declared commands', () => {
    expectTypeOf(proxy.command('calc.add', 1, '2')).resolves.toEqualTypeOf<number>();
    expectTypeOf(proxy.command('proxyserver.active_connections')).resolves.toEqualTypeOf<number>();
    expectTypeOf(proxy.command('calc.join', '-', 'a')).resolves.toEqualTypeOf<unknown>();
  });

  it('fails as the command manager does', async () => {
    await expect(proxy.command('calc.ad', 1, 2)).rejects.toMatchObject({
      code: 'MITMTS_ERR_UNKNOWN_COMMAND',
      message: expect.stringContaining('Did you mean calc.add?'),
    });
    await expect(proxy.command('calc.add', 'two', 3)).rejects.toMatchObject({
      code: 'MITMTS_ERR_COMMAND_ARGS',
      message: expect.stringContaining('argument a expects an integer, got "two"'),
    });
    await expect(proxy.command('calc.add', 1)).rejects.toMatchObject({ code: 'MITMTS_ERR_COMMAND_ARGS' });
    const err = await proxy.command('calc.fail').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as Error).message).toBe('Command calc.fail failed: broken on purpose');
  });
});
