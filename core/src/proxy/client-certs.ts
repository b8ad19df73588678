/**
 * `client_certs` (mitmproxy's tlsconfig): the client certificate presented to servers that ask
 * for one (mutual TLS). A file (certificate and private key in one PEM) is presented to every
 * server; a directory holds `<server name>.pem` files, the name being the SNI or else the
 * server's address host.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { OptionsError } from '../kernel/errors.js';

/** A client certificate: where it came from, and its PEM (certificate chain and key). */
export interface ClientCert {
  readonly path: string;
  readonly pem: string;
}

/** Which client certificate (if any) goes to the server with this name. */
export type ClientCertLookup = (serverName: string) => ClientCert | null;

const NONE: ClientCertLookup = () => null;

function readPem(path: string): ClientCert {
  const pem = readFileSync(path, 'latin1');
  if (!pem.includes('-----BEGIN CERTIFICATE-----') || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error(
      `${path} must hold a certificate and its private key in PEM form (one file, e.g. cat client.crt client.key > ${path}).`,
    );
  }
  try {
    tls.createSecureContext({ cert: pem, key: pem });
  } catch (err) {
    throw new Error(`${path}: OpenSSL cannot use this certificate and key (${(err as Error).message}).`);
  }
  return { path, pem };
}

/**
 * The lookup for a `client_certs` value: a missing path or a bad file is an options error now,
 * not a failed handshake later. Directory entries are read (and checked) on first use and kept.
 * @throws OptionsError naming the path and the fix.
 */
export function clientCertLookup(option: string | null): ClientCertLookup {
  if (!option) return NONE;
  const path = option.startsWith('~') ? join(homedir(), option.slice(1)) : option;
  if (!existsSync(path)) throw new OptionsError(`Client certificate path does not exist: ${option}`);
  if (!statSync(path).isDirectory()) {
    let cert: ClientCert;
    try {
      cert = readPem(path);
    } catch (err) {
      throw new OptionsError(`Option client_certs: ${(err as Error).message}`);
    }
    return () => cert;
  }
  const known = new Map<string, ClientCert | null>();
  return (name) => {
    let c = known.get(name);
    if (c === undefined) {
      const file = join(path, `${name}.pem`);
      // A bad file in the directory fails that server's handshake with this message (UpstreamError).
      c = existsSync(file) ? readPem(file) : null;
      known.set(name, c);
    }
    return c;
  };
}
