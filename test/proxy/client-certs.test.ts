// client_certs: mutual TLS towards servers that require a client certificate. The server is a
// Node HTTPS server with requestCert and rejectUnauthorized, trusting a client CA of its own.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { confdirWithCa } from '../helpers/cli.js';
import { curl, testCa } from '../helpers/servers.js';

/** An RSA key made natively (fast), as forge and PEM. */
function rsaKey(): {
  forge: { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey };
  pem: string;
} {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { forge: { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) }, pem };
}

/** A certificate for `cn`, signed by `issuer` (or self-signed: a CA). */
function certificate(
  cn: string,
  key: ReturnType<typeof rsaKey>,
  issuer: { cert: forge.pki.Certificate; key: ReturnType<typeof rsaKey> } | null,
): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = key.forge.publicKey;
  c.serialNumber = `01${randomBytes(8).toString('hex')}`;
  c.validity.notBefore = new Date(Date.now() - 86_400_000);
  c.validity.notAfter = new Date(Date.now() + 86_400_000);
  c.setSubject([{ name: 'commonName', value: cn }]);
  c.setIssuer(issuer ? issuer.cert.subject.attributes : [{ name: 'commonName', value: cn }]);
  c.setExtensions(
    issuer
      ? [{ name: 'extKeyUsage', clientAuth: true }]
      : [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, critical: true },
        ],
  );
  c.sign((issuer ?? { key }).key.forge.privateKey, forge.md.sha256.create());
  return c;
}

let server: https.Server;
let port: number;
let proxy: EmbeddedProxy;
let dir: string;
const pems: Record<'good' | 'wrong', string> = { good: '', wrong: '' };
const seenCns: string[] = [];

beforeAll(async () => {
  const clientCaKey = rsaKey();
  const clientCa = certificate('client ca', clientCaKey, null);
  const otherCaKey = rsaKey();
  const otherCa = certificate('some other ca', otherCaKey, null);
  dir = mkdtempSync(join(tmpdir(), 'mitmts-client-certs-'));
  for (const [name, ca] of [
    ['good', { cert: clientCa, key: clientCaKey }],
    ['wrong', { cert: otherCa, key: otherCaKey }],
  ] as const) {
    const key = rsaKey();
    const pem = forge.pki.certificateToPem(certificate(`${name} client`, key, ca)) + key.pem;
    pems[name] = join(dir, `${name}.pem`);
    writeFileSync(pems[name], pem);
  }
  const ca = await testCa();
  server = https.createServer(
    { ...ca.issue('localhost'), ca: forge.pki.certificateToPem(clientCa), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      seenCns.push(String(peer.subject?.CN));
      res.end(`hello ${peer.subject?.CN}`);
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  proxy = await createProxy({ confdir: confdirWithCa(), options: { ssl_verify_upstream_trusted_ca: ca.caCertPath } });
});

afterAll(async () => {
  await proxy?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

/** curl through the proxy to the mutual-TLS server, with `client_certs` set to `value`. */
async function fetchWith(
  value: string | null,
  path: string,
): Promise<{ status: string; body: string; flow: HTTPFlow }> {
  proxy.kernel.options.update({ client_certs: value });
  const r = await curl(['-i', '-x', proxy.url, '--cacert', proxy.caCertPath, `https://localhost:${port}${path}`]);
  const [head, ...body] = r.stdout.replace(/^HTTP\/1\.1 200 Connection established\r\n\r\n/, '').split('\r\n\r\n');
  const flow = (await proxy.flows.waitFor(
    (f) => (f as HTTPFlow).request?.path === path && ((f as HTTPFlow).response !== null || f.error !== null),
  )) as HTTPFlow;
  return { status: head!.split('\r\n')[0]!, body: body.join('\r\n\r\n'), flow };
}

describe('client_certs (mutual TLS towards servers)', () => {
  it('presents the certificate of a PEM file: 200', async () => {
    const r = await fetchWith(pems.good, '/good');
    expect(r.status).toBe('HTTP/1.1 200 OK');
    expect(r.body).toBe('hello good client');
  });

  it('a directory of <host>.pem files: the one named after the server', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mitmts-client-cert-dir-'));
    writeFileSync(join(d, 'localhost.pem'), readFileSync(pems.good));
    writeFileSync(join(d, 'elsewhere.example.pem'), readFileSync(pems.wrong));
    const r = await fetchWith(d, '/dir');
    expect(r.body).toBe('hello good client');
  });

  it('a certificate the server does not accept: 502 naming the certificate', async () => {
    const r = await fetchWith(pems.wrong, '/wrong');
    expect(r.status).toBe('HTTP/1.1 502 Bad Gateway');
    expect(r.flow.error?.msg).toContain(`it may have rejected the client certificate ${pems.wrong} (client_certs)`);
    expect(r.body).toContain(`rejected the client certificate ${pems.wrong}`);
  });

  it('no certificate: 502 saying the server requires one and which option gives it', async () => {
    const r = await fetchWith(null, '/none');
    expect(r.status).toBe('HTTP/1.1 502 Bad Gateway');
    expect(r.flow.error?.msg).toContain(
      'the server requires a client certificate (TLS alert "certificate required"): set client_certs',
    );
  });

  it('with TLS 1.2 the refusals come in the handshake, with the same hints', async () => {
    proxy.kernel.options.update({ tls_version_server_max: 'TLS1_2' });
    try {
      const none = await fetchWith(null, '/none-12');
      expect(none.flow.error?.msg).toMatch(
        /TLS handshake with localhost:\d+ failed: .*handshake failure.* \(if the server requires a client certificate, set client_certs\)/,
      );
      const wrong = await fetchWith(pems.wrong, '/wrong-12');
      expect(wrong.flow.error?.msg).toContain(`(the server may have rejected the client certificate ${pems.wrong})`);
      const good = await fetchWith(pems.good, '/good-12');
      expect(good.body).toBe('hello good client');
    } finally {
      proxy.kernel.options.update({ tls_version_server_max: 'UNBOUNDED' });
    }
  });

  it('refuses a path that does not exist, and a file without a key, when the option is set', () => {
    expect(() => proxy.kernel.options.update({ client_certs: join(dir, 'missing.pem') })).toThrow(
      `Client certificate path does not exist: ${join(dir, 'missing.pem')}`,
    );
    const certOnly = join(dir, 'cert-only.pem');
    writeFileSync(
      certOnly,
      (readFileSync(pems.good, 'latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/) ?? [
        '',
      ])[0],
    );
    expect(() => proxy.kernel.options.update({ client_certs: certOnly })).toThrow(
      /Option client_certs: .*cert-only\.pem must hold a certificate and its private key in PEM form/,
    );
  });
});
