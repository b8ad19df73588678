import { describe, expect, it } from 'vitest';
import { CommandManager } from '../../src/commands/manager.js';
import { lex } from '../../src/commands/lexer.js';

function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (err: { code?: string }) => err.code,
  );
}

describe('lexer', () => {
  it('splits words and honours quotes and escapes', () => {
    expect(lex('cmd arg "quoted arg"')).toEqual(['cmd', 'arg', 'quoted arg']);
    expect(lex(`  a   'b c'  "d \\" e" f"g h"i`)).toEqual(['a', 'b c', 'd " e', 'fg hi']);
    expect(lex('set x ""')).toEqual(['set', 'x', '']);
    expect(lex('')).toEqual([]);
  });

  it('rejects an unterminated quote with its position', () => {
    expect(() => lex('cmd "oops')).toThrowError(
      'Unterminated quote in command at position 4: "oops (close it with ").',
    );
  });
});

describe('CommandManager', () => {
  function make(): { m: CommandManager; calls: unknown[][] } {
    const m = new CommandManager();
    const calls: unknown[][] = [];
    m.add(
      { name: 'demo.add', help: 'Add two ints.', args: ['int', 'int'], returns: 'int' },
      (a: number, b: number) => a + b,
      'demo',
    );
    m.add(
      { name: 'demo.echo', help: 'Echo words.', args: ['str', 'str[]'] },
      (first: string, rest: string[]) => {
        calls.push([first, rest]);
      },
      'demo',
    );
    m.add(
      { name: 'demo.flag', args: ['bool', { name: 'level', type: 'int', optional: true }] },
      (on: boolean, level?: number) => [on, level],
      'demo',
    );
    m.add({ name: 'demo.options', returns: 'str[]' }, () => ['gzip', 'br'], 'demo');
    m.add(
      { name: 'demo.pick', args: [{ name: 'enc', type: 'choice', choices: 'demo.options' }] },
      (enc: string) => enc,
      'demo',
    );
    m.add(
      { name: 'demo.boom' },
      () => {
        throw new Error('kaboom');
      },
      'demo',
    );
    return { m, calls };
  }

  it('parses string arguments by declared type', async () => {
    const { m, calls } = make();
    expect(await m.execute('demo.add 2 40')).toBe(42);
    await m.execute('demo.echo first "second word" third');
    expect(calls).toEqual([['first', ['second word', 'third']]]);
    expect(await m.execute('demo.flag true')).toEqual([true, undefined]);
    expect(await m.execute('demo.flag false 3')).toEqual([false, 3]);
    expect(await m.execute('demo.pick br')).toBe('br');
  });

  it('calls with typed arguments from code', async () => {
    const { m } = make();
    expect(await m.call('demo.add', 1, 2)).toBe(3);
  });

  it('explains unknown commands, wrong arity and wrong types', async () => {
    const { m } = make();
    await expect(m.execute('demo.ad 1 2')).rejects.toThrowError('Unknown command: demo.ad. Did you mean demo.add?');
    await expect(m.execute('demo.add 1')).rejects.toThrowError(
      'Command demo.add takes 2 arguments, got 1. Usage: demo.add a:int b:int -> int',
    );
    await expect(m.execute('demo.add 1 2 3')).rejects.toThrowError(/takes 2 arguments, got 3/);
    await expect(m.execute('demo.add one 2')).rejects.toThrowError(
      'Command demo.add: argument a expects an integer, got "one". Usage: demo.add a:int b:int -> int',
    );
    await expect(m.execute('demo.flag maybe')).rejects.toThrowError(/expects true or false/);
    await expect(m.execute('demo.pick zip')).rejects.toThrowError(/expects one of gzip, br/);
    expect(await codeOf(m.execute('nope'))).toBe('MITMTS_ERR_UNKNOWN_COMMAND');
    expect(await codeOf(m.execute('demo.add 1'))).toBe('MITMTS_ERR_COMMAND_ARGS');
    expect(await codeOf(m.call('demo.add', 1))).toBe('MITMTS_ERR_COMMAND_ARGS');
  });

  it('wraps a failing command with its name', async () => {
    const { m } = make();
    await expect(m.execute('demo.boom')).rejects.toThrowError('Command demo.boom failed: kaboom');
  });

  it('lists commands with signatures and help', () => {
    const { m } = make();
    const add = m.list().find((c) => c.name === 'demo.add')!;
    expect(add.signature).toBe('demo.add a:int b:int -> int');
    expect(add.help).toBe('Add two ints.');
    expect(m.get('demo.flag').signature).toBe('demo.flag on:bool [level:int]');
    expect(m.get('demo.echo').signature).toBe('demo.echo first:str rest:str...');
    expect(m.list().map((c) => c.name)).toEqual([...m.list().map((c) => c.name)].sort());
  });

  it('rejects the same command name from two addons', () => {
    const { m } = make();
    expect(() => m.add({ name: 'demo.add' }, () => 0, 'other')).toThrowError(
      'Command demo.add is declared twice: by demo and by other.',
    );
  });
});
