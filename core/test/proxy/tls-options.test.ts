import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/kernel/errors.js';
import { OptionsManager } from '../../src/options/manager.js';
import { PROXY_OPTIONS } from '../../src/proxy/options.js';

function proxyOptions(): OptionsManager {
  const m = new OptionsManager();
  for (const o of PROXY_OPTIONS) m.declare(o, 'proxyserver');
  return m;
}

function errorOf(fn: () => unknown): OptionsError {
  try {
    fn();
  } catch (e) {
    return e as OptionsError;
  }
  throw new Error('no error');
}

describe('TLS option values are checked when set', () => {
  it.each([
    ['ciphers_client', 'FOO', /OpenSSL rejects the cipher list "FOO" \(no cipher match\)/],
    ['ciphers_server', 'TLS_NOT_A_SUITE', /OpenSSL rejects the cipher list "TLS_NOT_A_SUITE"/],
    ['tls_ecdh_curve_client', 'curve25520', /OpenSSL rejects the curve list "curve25520"/],
    ['tls_ecdh_curve_server', 'P-256:nope', /OpenSSL rejects the curve list "P-256:nope"/],
  ])('%s=%s is an OptionsError naming the option and the value', (name, value, message) => {
    const m = proxyOptions();
    const err = errorOf(() => m.set([`${name}=${value}`], { source: { label: '--set' } }));
    expect(err).toBeInstanceOf(OptionsError);
    expect(err.code).toBe('MITMTS_ERR_OPTION_VALUE');
    expect(err.message).toMatch(new RegExp(`^Option ${name} \\(from --set\\): `));
    expect(err.message).toMatch(message);
    expect(m.get(name)).toBeNull();
  });

  it.each([
    ['ciphers_client', 'ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256'],
    ['ciphers_server', 'HIGH:!aNULL'],
    ['tls_ecdh_curve_client', 'prime256v1:X25519'],
    ['tls_ecdh_curve_server', 'auto'],
  ])('%s=%s is accepted', (name, value) => {
    const m = proxyOptions();
    m.set([`${name}=${value}`]);
    expect(m.get(name)).toBe(value);
  });

  it('refuses an empty TLS version range on either side, whichever end moves', () => {
    const m = proxyOptions();
    expect(
      errorOf(() => m.update({ tls_version_client_min: 'TLS1_3', tls_version_client_max: 'TLS1_2' })).message,
    ).toBe(
      'Option tls_version_client_min: tls_version_client_min TLS1_3 is above tls_version_client_max TLS1_2, which leaves no TLS version to use. Raise the maximum or lower the minimum.',
    );
    m.update({ tls_version_server_min: 'TLS1_3' });
    expect(errorOf(() => m.update({ tls_version_server_max: 'TLS1_1' })).code).toBe('MITMTS_ERR_OPTION_VALUE');
    m.update({ tls_version_server_max: 'TLS1_3', tls_version_client_min: 'UNBOUNDED', tls_version_client_max: 'TLS1' });
    expect(m.get('tls_version_server_max')).toBe('TLS1_3');
  });
});
