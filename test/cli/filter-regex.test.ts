import { describe, expect, it } from 'vitest';
import { listeningPort, mitmts, proxyRoundTrip, tempDir } from '../helpers/process.js';

// `(a+)+$` against a long run of a's backtracks for hours on V8's engine: the dumper's filter
// ran it on every flow and the whole proxy stalled.
describe('a catastrophic filter regex on a real proxy', () => {
  it('does not stall: flows with long URLs are matched and served', async () => {
    const child = mitmts(['--set', `confdir=${tempDir()}`, '-p', '0', '~u "/(a+)+$" | ~u done']);
    try {
      const port = await listeningPort(child);
      expect(await proxyRoundTrip(port, `/${'a'.repeat(20_000)}!`)).toMatch(/^HTTP\/1\.1 502 /);
      expect(await proxyRoundTrip(port, `/${'a'.repeat(20_000)}`)).toMatch(/^HTTP\/1\.1 502 /);
      expect(await proxyRoundTrip(port, '/done')).toMatch(/^HTTP\/1\.1 502 /);
      // The dumper printed the two matching flows only (the long URL shortened, without its "!").
      await child.waitFor(/GET http:\/\/127\.0\.0\.1:1\/done/);
      expect(child.out.match(/: GET /g)).toHaveLength(2);
      expect(child.out).not.toContain('!');
    } finally {
      await child.stop();
    }
  });
});
