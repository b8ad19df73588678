import { describe, expect, it } from 'vitest';
import { proxyWith, send } from './support.js';

describe('shutdown', () => {
  it('asks whoever runs the proxy to shut down', async () => {
    const proxy = await proxyWith('shutdown.ts');
    try {
      const exit = proxy.kernel.whenExitRequested();
      const r = await send(proxy, 'http://example.com/path');
      expect(r.body).toBe('Shutting down.');
      expect(await exit).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
