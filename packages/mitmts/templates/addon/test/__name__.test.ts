import { describe, expect, it } from 'vitest';
import { tflow, withAddon } from '@mitmts/sdk/testing';
import { __Name__ } from '../src/index.js';

describe('__name__', () => {
  it('does nothing while the option is unset', async () => {
    const tctx = await withAddon(__Name__);
    const f = tflow({ resp: true });
    await tctx.trigger('response', f);
    expect(f.response!.headers.has('x-__name__')).toBe(false);
    expect(await tctx.command('__name__.count')).toBe(0);
    await tctx.done();
  });

  it('tags responses and counts them', async () => {
    const tctx = await withAddon(__Name__);
    tctx.configure({ __name_snake__: 'yes' });
    const f = tflow({ resp: true });
    await tctx.trigger('response', f);
    expect(f.response!.headers.get('x-__name__')).toBe('yes');
    expect(await tctx.command('__name__.count')).toBe(1);
    await tctx.done();
  });

  it('rejects a header value with a line break, keeping the old value', async () => {
    const tctx = await withAddon(__Name__);
    tctx.configure({ __name_snake__: 'ok' });
    expect(() => tctx.configure({ __name_snake__: 'a\nb' })).toThrow(/line breaks/);
    expect(tctx.kernel.options.get('__name_snake__')).toBe('ok');
    await tctx.done();
  });
});
