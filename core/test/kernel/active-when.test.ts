/** `@hook(name, { activeWhen })`: handlers left out of the hook table while their addon is idle. */
import { describe, expect, it } from 'vitest';
import { addon, hook, option } from '../../src/hooks/decorators.js';
import { MitmtsError } from '../../src/kernel/errors.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { tflow } from '../../src/flow/testing.js';
import type { HTTPFlow } from '../../src/flow/index.js';

const WHEN_ON = { activeWhen: (w: Watcher): boolean => w.watch_on };

@addon({ name: 'watcher' })
class Watcher {
  @option({ type: 'bool', default: false, help: 'Count requests.' })
  watch_on!: boolean;

  requests = 0;
  responses = 0;

  @hook('request', WHEN_ON)
  request(_f: HTTPFlow): void {
    this.requests++;
  }

  /** Always active: no activeWhen. */
  response(_f: HTTPFlow): void {
    this.responses++;
  }
}

/** What a hot-reloaded script looks like to the kernel: a plain addon swapped in with `replace`. */
@addon({ name: 'script-like' })
class ScriptLike {
  seen = 0;
  request(_f: HTTPFlow): void {
    this.seen++;
  }
}

@addon({ name: 'script-like' })
class ScriptLikeV2 {
  seen = 0;
  request(_f: HTTPFlow): void {
    this.seen += 10;
  }
}

async function kernel(...addons: Array<new (...a: never[]) => object>): Promise<Kernel> {
  const k = new Kernel();
  await k.add(...addons);
  await k.start();
  return k;
}

describe('@hook activeWhen', () => {
  it('leaves an inactive handler out of the table: it is not called and the hook counts as unhandled', async () => {
    const k = await kernel(Watcher);
    const w = k.get<Watcher>('watcher')!;
    expect(k.addons.has('request')).toBe(false);
    await k.addons.table.triggerFlow('request', tflow());
    await k.addons.table.triggerFlow('response', tflow({ resp: true }));
    expect(w.requests).toBe(0);
    expect(w.responses).toBe(1); // the addon's other handler runs
  });

  it('becomes active when an option changes, and inactive again', async () => {
    const k = await kernel(Watcher);
    const w = k.get<Watcher>('watcher')!;
    const before = k.addons.table;
    k.options.update({ watch_on: true });
    expect(k.addons.table).not.toBe(before);
    expect(k.addons.has('request')).toBe(true);
    await k.addons.table.triggerFlow('request', tflow());
    expect(w.requests).toBe(1);
    k.options.update({ watch_on: false });
    await k.addons.table.triggerFlow('request', tflow());
    expect(w.requests).toBe(1);
    // an option change that changes no answer keeps the table
    const t = k.addons.table;
    k.options.update({ watch_on: false });
    expect(k.addons.table).toBe(t);
  });

  it('is asked when an addon joins a running kernel (after its configure)', async () => {
    const k = new Kernel();
    await k.start();
    await k.add(Watcher);
    k.options.update({ watch_on: true });
    await k.addons.table.triggerFlow('request', tflow());
    expect(k.get<Watcher>('watcher')!.requests).toBe(1);
  });

  it('leaves other addons alone, a hot-reloaded (replaced) one included', async () => {
    const k = await kernel(Watcher, ScriptLike);
    const old = k.get<ScriptLike>('script-like')!;
    await k.addons.table.triggerFlow('request', tflow());
    expect(old.seen).toBe(1);
    await k.replace(old, ScriptLikeV2);
    const fresh = k.get<ScriptLikeV2>('script-like')!;
    await k.addons.table.triggerFlow('request', tflow());
    expect(fresh.seen).toBe(10);
    expect(k.get<Watcher>('watcher')!.requests).toBe(0);
    k.options.update({ watch_on: true });
    await k.addons.table.triggerFlow('request', tflow());
    expect(fresh.seen).toBe(20);
    expect(k.get<Watcher>('watcher')!.requests).toBe(1);
  });

  it('an activeWhen that throws is reported and its handler runs', async () => {
    @addon({ name: 'broken-when' })
    class BrokenWhen {
      calls = 0;
      @hook('request', {
        activeWhen: (): boolean => {
          throw new Error('no state yet');
        },
      })
      request(_f: HTTPFlow): void {
        this.calls++;
      }
    }
    const k = new Kernel();
    const errors: string[] = [];
    k.addons.onError((a, h, e) => errors.push(`${a} ${h}: ${(e as Error).message}`));
    await k.add(BrokenWhen);
    await k.start();
    await k.addons.table.triggerFlow('request', tflow());
    expect(k.get<BrokenWhen>('broken-when')!.calls).toBe(1);
    expect(errors).toContain('broken-when request (activeWhen): no state yet');
  });

  it('is refused on lifecycle hooks, with a message saying why', () => {
    const e = (() => {
      try {
        hook('configure', { activeWhen: () => true });
      } catch (err) {
        return err as MitmtsError;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(MitmtsError);
    expect(e!.message).toBe(
      '@hook("configure", { activeWhen }): configure always runs; activeWhen is for event hooks (request, websocket_message, ...).',
    );
  });
});
