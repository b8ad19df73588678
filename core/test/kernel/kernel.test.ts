import { describe, expect, it } from 'vitest';
import { addon, command, hook, inject, option } from '../../src/hooks/decorators.js';
import { AddonHalt, OptionsError } from '../../src/kernel/errors.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { ctx } from '../../src/kernel/context.js';
import type { LogEntry } from '../../src/kernel/log.js';
import { Logger } from '../../src/kernel/log.js';
import { COMMANDS, LOG, OPTIONS } from '../../src/kernel/tokens.js';
import type { OptionsManager } from '../../src/options/manager.js';
import type { CommandManager } from '../../src/commands/manager.js';
import { tflow } from '../../src/flow/testing.js';
import type { HTTPFlow } from '../../src/flow/index.js';

function capture(k: Kernel): LogEntry[] {
  const entries: LogEntry[] = [];
  k.log.onEntry((e) => entries.push(e));
  return entries;
}

/** The sample addon: all four decorators and an injected service. */
@addon({ name: 'counter' })
class Counter {
  @option({ type: 'int', default: 1, help: 'How much each response adds.' })
  counter_step!: number;

  @option({ name: 'counter_label', type: 'str', default: 'hits', help: 'Label.' })
  label!: string;

  count = 0;
  configured: string[][] = [];
  events: string[] = [];

  constructor(
    @inject(LOG) readonly log: Logger,
    @inject(OPTIONS) readonly options: OptionsManager,
  ) {}

  configure(updated: ReadonlySet<string>): void {
    this.configured.push([...updated].filter((n) => n.startsWith('counter')).sort());
    if (updated.has('counter_step') && this.counter_step < 0) throw new OptionsError('counter_step must be >= 0');
  }

  running(): void {
    this.events.push('running');
  }

  done(): void {
    this.events.push('done');
  }

  @hook('response')
  onResponse(_flow: HTTPFlow): void {
    this.count += this.counter_step;
    this.log.info(`${this.label}: ${this.count}`);
  }

  @command('counter.get', { help: 'The current count.', returns: 'int' })
  get(): number {
    return this.count;
  }

  @command('counter.add', { help: 'Add to the count.', args: ['int'] })
  add(n: number): void {
    this.count += n;
  }
}

describe('Kernel', () => {
  it('loads a decorated addon: options, commands, hooks and injection', async () => {
    const k = new Kernel();
    const log = capture(k);
    const [c] = (await k.add(Counter)) as [Counter];
    expect(c.log).toBeInstanceOf(Logger);
    expect(c.options).toBe(k.options);
    expect(k.options.info('counter_step')).toMatchObject({ type: 'int', default: 1, owner: 'counter' });
    expect(k.options.get('counter_label')).toBe('hits');
    await k.start();
    expect(c.configured[0]).toEqual(['counter_label', 'counter_step']);
    expect(c.events).toEqual(['running']);
    k.options.update({ counter_step: 5 });
    expect(c.configured.at(-1)).toEqual(['counter_step']);
    await k.trigger('response', tflow());
    expect(c.count).toBe(5);
    expect(await k.commands.execute('counter.get')).toBe(5);
    await k.commands.execute('counter.add 10');
    expect(c.count).toBe(15);
    expect(log.at(-1)).toMatchObject({ level: 'info', message: 'hits: 5', addon: 'counter' });
    c.counter_step = 2;
    expect(k.options.get('counter_step')).toBe(2);
    await k.shutdown();
    expect(c.events).toEqual(['running', 'done']);
  });

  it('rolls back an option change that an addon rejects in configure', async () => {
    const k = new Kernel();
    await k.add(Counter);
    await k.start();
    expect(() => k.options.update({ counter_step: -1 })).toThrowError('counter_step must be >= 0');
    expect(k.options.get('counter_step')).toBe(1);
  });

  it('logs a throwing hook with addon name and stack, and the chain goes on', async () => {
    const k = new Kernel();
    const log = capture(k);
    const order: string[] = [];
    await k.add(
      { name: 'first', request: () => void order.push('first') },
      {
        name: 'broken',
        request: () => {
          throw new TypeError('nope');
        },
      },
      { name: 'last', request: () => void order.push('last') },
    );
    await k.start();
    await k.trigger('request', tflow());
    expect(order).toEqual(['first', 'last']);
    const err = log.find((e) => e.level === 'error')!;
    expect(err.message).toMatch(/^addon broken: request failed: nope\nTypeError: nope\n\s+at /);
  });

  it('awaits async hooks in chain order', async () => {
    const k = new Kernel();
    const order: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await k.add(
      {
        name: 'a',
        async request() {
          await sleep(20);
          order.push('a');
        },
      },
      {
        name: 'b',
        request() {
          order.push('b');
        },
      },
      {
        name: 'c',
        async request() {
          await sleep(1);
          order.push('c');
        },
      },
      {
        name: 'd',
        async request() {
          throw new Error('late failure');
        },
      },
      {
        name: 'e',
        request() {
          order.push('e');
        },
      },
    );
    await k.start();
    const r = k.trigger('request', tflow());
    expect(r).toBeInstanceOf(Promise);
    await r;
    expect(order).toEqual(['a', 'b', 'c', 'e']);
  });

  it('dispatches synchronously when no handler is async', async () => {
    const k = new Kernel();
    let n = 0;
    await k.add({ name: 'a', request: () => void n++ }, { name: 'b', request: () => void n++ });
    expect(k.trigger('request', tflow())).toBeUndefined();
    expect(n).toBe(2);
  });

  it('stops the chain on AddonHalt', async () => {
    const k = new Kernel();
    const seen: string[] = [];
    await k.add(
      {
        name: 'a',
        request: () => {
          seen.push('a');
          throw new AddonHalt();
        },
      },
      { name: 'b', request: () => void seen.push('b') },
    );
    await k.trigger('request', tflow());
    expect(seen).toEqual(['a']);
  });

  it('runs child addons right after their parent, and honours pre/post order', async () => {
    const k = new Kernel();
    const seen: string[] = [];
    @addon({ name: 'late', order: 'post' })
    class Late {
      request(): void {
        seen.push('late');
      }
    }
    @addon({ name: 'early', order: 'pre' })
    class Early {
      request(): void {
        seen.push('early');
      }
    }
    const parent = {
      name: 'parent',
      addons: [
        { name: 'child1', request: () => void seen.push('child1') },
        { name: 'child2', request: () => void seen.push('child2') },
      ],
      request: () => void seen.push('parent'),
    };
    await k.add(Late, parent, { name: 'other', request: () => void seen.push('other') }, Early);
    await k.trigger('request', tflow());
    expect(seen).toEqual(['early', 'parent', 'child1', 'child2', 'other', 'late']);
    expect(k.addons.names()).toEqual(['early', 'parent', 'child1', 'child2', 'other', 'late']);
  });

  it('rejects duplicate addon names', async () => {
    const k = new Kernel();
    await k.add({ name: 'x' });
    await expect(k.add({ name: 'x' })).rejects.toMatchObject({ code: 'MITMTS_ERR_ADDON_DUPLICATE' });
  });

  it('adds and removes addons at runtime with the full lifecycle', async () => {
    const k = new Kernel();
    await k.start();
    const [c] = (await k.add(Counter)) as [Counter];
    expect(c.configured).toHaveLength(1);
    expect(c.events).toEqual(['running']);
    expect(k.commands.has('counter.get')).toBe(true);
    await k.remove('counter');
    expect(c.events).toEqual(['running', 'done']);
    expect(k.commands.has('counter.get')).toBe(false);
    expect(k.get('counter')).toBeUndefined();
    // Options stay declared (with their values) for the next version of the addon.
    expect(k.options.has('counter_step')).toBe(true);
  });

  it('replaces an addon only after the new one loaded, keeping option values', async () => {
    const k = new Kernel();
    const log = capture(k);
    const [old] = (await k.add(Counter)) as [Counter];
    await k.start();
    k.options.update({ counter_step: 7 });

    @addon({ name: 'counter' })
    class Broken {
      load(): void {
        throw new Error('syntax trouble');
      }
    }
    await expect(k.replace(old, Broken)).rejects.toThrowError('addon counter: load failed: syntax trouble');
    expect(k.get('counter')).toBe(old);
    expect(old.events).toEqual(['running']);

    const fresh = (await k.replace(old, Counter)).instance as Counter;
    expect(k.get('counter')).toBe(fresh);
    expect(old.events).toEqual(['running', 'done']);
    expect(fresh.events).toEqual(['running']);
    expect(fresh.counter_step).toBe(7);
    expect(k.commands.get('counter.get').owner).toBe('counter');
    await k.trigger('response', tflow());
    expect(fresh.count).toBe(7);
    expect(old.count).toBe(0);
    expect(log.filter((e) => e.level === 'error')).toEqual([]);
  });

  it("a replacement that fails to load leaves the old addon's commands pointing at the old addon", async () => {
    const k = new Kernel();
    const [old] = (await k.add(Counter)) as [Counter];
    await k.start();
    old.count = 3;
    @addon({ name: 'counter' })
    class BrokenCounter {
      @command('counter.get', { returns: 'int' }) get(): number {
        return -1;
      }
      @command('counter.extra') extra(): void {}
      load(): void {
        throw new Error('broken');
      }
    }
    await expect(k.replace(old, BrokenCounter)).rejects.toThrowError('addon counter: load failed: broken');
    expect(await k.commands.call('counter.get')).toBe(3);
    expect(k.commands.has('counter.extra')).toBe(false);
  });

  it('keeps in-flight hook tables: a table taken before a swap still calls the old addon', async () => {
    const k = new Kernel();
    const [old] = (await k.add(Counter)) as [Counter];
    const table = k.addons.table;
    const fresh = (await k.replace(old, Counter)).instance as Counter;
    await table.trigger('response', tflow());
    expect(old.count).toBe(1);
    expect(fresh.count).toBe(0);
  });

  it('explains a constructor parameter without injection token', async () => {
    class NoToken {
      constructor(readonly x: unknown) {}
    }
    const k = new Kernel();
    await expect(k.add(NoToken)).rejects.toThrowError(
      'Cannot construct addon NoToken: constructor parameter 1 has no injection token. Add @inject(TOKEN) (e.g. @inject(OPTIONS)) to it.',
    );
  });

  it('gives two kernels in one process no shared state', async () => {
    const a = new Kernel();
    const b = new Kernel();
    const [ca] = (await a.add(Counter)) as [Counter];
    const [cb] = (await b.add(Counter)) as [Counter];
    a.options.update({ counter_step: 3 });
    expect(b.options.get('counter_step')).toBe(1);
    expect(ca.options).not.toBe(cb.options);
    expect(a.resolve(COMMANDS)).toBe(a.commands);
    expect(b.resolve(COMMANDS)).toBe(b.commands);
    expect(a.resolve(COMMANDS)).not.toBe(b.resolve(COMMANDS) as CommandManager);
    await a.trigger('response', tflow());
    expect(ca.count).toBe(3);
    expect(cb.count).toBe(0);
    a.container.register('shared', { useValue: 'only in a' });
    expect(b.container.isRegistered('shared')).toBe(false);
  });

  it('gives hooks a ctx bound to the kernel that runs them', async () => {
    const seen: unknown[] = [];
    const make = () => ({ name: 'peek', request: () => void seen.push(ctx.options.get('listen_port')) });
    const a = new Kernel();
    const b = new Kernel();
    await a.add(make());
    await b.add(make());
    a.options.update({ listen_port: 1111 });
    b.options.update({ listen_port: 2222 });
    await a.trigger('request', tflow());
    await b.trigger('request', tflow());
    await a.trigger('request', tflow());
    expect(seen).toEqual([1111, 2222, 1111]);
  });

  it('reports options set for addons that never came, once start-up is over', async () => {
    const k = new Kernel();
    k.options.set(['counter_stpe=3'], { defer: true, source: { label: '--set' } });
    await k.add(Counter);
    await expect(k.start()).rejects.toThrowError(
      'Unknown option: counter_stpe (from --set). Did you mean counter_step?',
    );
  });

  it('supports imperative options and commands in load()', async () => {
    const k = new Kernel();
    await k.add({
      name: 'legacy',
      load(loader: { addOption: (...args: unknown[]) => unknown; addCommand: (...args: unknown[]) => unknown }) {
        loader.addOption('legacy_mode', 'str', 'a', 'Mode.', ['a', 'b']);
        loader.addCommand('legacy.mode', () => k.options.get('legacy_mode'), { returns: 'str' });
      },
    });
    k.options.set(['legacy_mode=b']);
    expect(await k.commands.execute('legacy.mode')).toBe('b');
    expect(() => k.options.set(['legacy_mode=c'])).toThrowError(/not one of the allowed values: a, b/);
  });
});
