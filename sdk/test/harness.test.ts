import { describe, expect, it } from 'vitest';
import {
  addon,
  command,
  hook,
  inject,
  option,
  LOG,
  OPTIONS,
  type HTTPFlow,
  type Logger,
  type OptionsManager,
} from '@mitmts/sdk';
import { withAddon, withAddons } from '@mitmts/sdk/testing';

@addon({ name: 'greeter' })
class Greeter {
  @option({ type: 'str', default: 'hello', help: 'What to say.' }) greeting!: string;
  seen = 0;
  constructor(
    @inject(LOG) private readonly log: Logger,
    @inject(OPTIONS) readonly options: OptionsManager,
  ) {}
  @hook('request') onRequest(_flow: HTTPFlow): void {
    this.seen++;
    this.log.info(`${this.greeting} #${this.seen}`);
  }
  @hook('response') onResponse(): void {
    throw new Error('response hook broke');
  }
  @command('greeter.say', { args: ['str'], returns: 'str' }) say(name: string): string {
    return `${this.greeting}, ${name}`;
  }
}

describe('@mitmts/sdk/testing', () => {
  it('loads an addon, sets options, fires hooks, calls commands and captures the log', async () => {
    const tctx = await withAddon(Greeter);
    const g = tctx.addon<Greeter>('greeter');
    tctx.configure({ greeting: 'hi' });
    await tctx.trigger('request', {} as HTTPFlow);
    expect(g.seen).toBe(1);
    expect(tctx.messages('info')).toEqual(['hi #1']);
    expect(await tctx.command('greeter.say world')).toBe('hi, world');
    tctx.set('greeting=hey');
    expect(await tctx.call('greeter.say', 'you')).toBe('hey, you');
    await tctx.trigger('response', {} as HTTPFlow);
    expect(tctx.hasLog(/^addon greeter: response failed: response hook broke/, 'error')).toBe(true);
    await tctx.done();
  });

  it('takes option values before start-up', async () => {
    const tctx = await withAddons([Greeter], { greeting: 'yo' });
    expect(await tctx.command('greeter.say me')).toBe('yo, me');
  });

  it('names what is loaded when an addon is missing', async () => {
    const tctx = await withAddon(Greeter);
    expect(() => tctx.addon('nope')).toThrowError('No addon named nope is loaded (loaded: greeter).');
  });
});
