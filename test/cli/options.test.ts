import { describe, expect, it } from 'vitest';
import { mitmts, tempDir } from '../helpers/process.js';

// Bad option values must stop mitmts before it listens, with one line naming option and value.
describe('mitmts refuses bad option values before listening', () => {
  it.each([
    [
      ['--set', 'ciphers_client=NOT-A-CIPHER'],
      /^mitmts: Option ciphers_client \(from --set\): OpenSSL rejects the cipher list "NOT-A-CIPHER"/,
    ],
    [
      ['--set', 'tls_ecdh_curve_client=nocurve'],
      /^mitmts: Option tls_ecdh_curve_client \(from --set\): OpenSSL rejects the curve list "nocurve"/,
    ],
    [
      ['--set', 'flow_detail=9'],
      /^mitmts: Option flow_detail \(from --set\): 9 is out of range: expected an integer from 0 to 4\./,
    ],
    [['--flow-detail', '-1'], /^mitmts: Option flow_detail \(from --flow-detail\): -1 is out of range/],
  ])('%j', async (args, message) => {
    const child = mitmts(['--set', `confdir=${tempDir()}`, '-p', '0', ...args]);
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.err).toMatch(message);
    expect(child.err.trim().split('\n')).toHaveLength(1);
    expect(child.out).not.toMatch(/listening/);
  });
});
