import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listeningPort, mitmts, tempDir } from '../helpers/process.js';

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`GET http://127.0.0.1:1${path} HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n`));
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    s.on('close', () => resolve(data.split('\r\n')[0]!));
    s.on('error', reject);
  });
}

// `(a+)+$` against a long run of a's backtracks for hours on V8's engine: the dumper's filter
// ran it on every flow and the whole proxy stalled.
describe('a catastrophic filter regex on a real proxy', () => {
  it('does not stall: flows with long URLs are matched and served', async () => {
    const child = mitmts(['--set', `confdir=${tempDir()}`, '-p', '0', '~u "/(a+)+$" | ~u done']);
    try {
      const port = await listeningPort(child);
      expect(await get(port, `/${'a'.repeat(20_000)}!`)).toMatch(/^HTTP\/1\.1 502 /);
      expect(await get(port, `/${'a'.repeat(20_000)}`)).toMatch(/^HTTP\/1\.1 502 /);
      expect(await get(port, '/done')).toMatch(/^HTTP\/1\.1 502 /);
      // The dumper printed the two matching flows only (the long URL shortened, without its "!").
      await child.waitFor(/GET http:\/\/127\.0\.0\.1:1\/done/);
      expect(child.out.match(/: GET /g)).toHaveLength(2);
      expect(child.out).not.toContain('!');
    } finally {
      await child.stop();
    }
  });
});
