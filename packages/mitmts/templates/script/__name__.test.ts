import { describe, expect, it } from 'vitest';
import { tflow, withAddon } from '@mitmts/sdk/testing';
import { __Name__ } from './__name__.js';

describe('__name__', () => {
  it('adds the x-__name__ header to responses', async () => {
    const tctx = await withAddon(__Name__);
    const f = tflow({ resp: true });
    await tctx.trigger('response', f);
    expect(f.response!.headers.get('x-__name__')).toBe('hello');

    tctx.configure({ __name_snake___header: 'custom' });
    const g = tflow({ resp: true });
    await tctx.trigger('response', g);
    expect(g.response!.headers.get('x-__name__')).toBe('custom');
    expect(tctx.addon<__Name__>('__name__').count).toBe(2);
    await tctx.done();
  });

  it('leaves requests without a response alone', async () => {
    const tctx = await withAddon(__Name__);
    const f = tflow();
    await tctx.trigger('response', f);
    expect(f.response).toBeNull();
    await tctx.done();
  });
});
