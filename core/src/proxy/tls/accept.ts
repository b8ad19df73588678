import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ClientHello, TlsSettings } from '../../hooks/data.js';
import { headTimeouts } from '../http1/head-timeout.js';
import { describeClientTlsFailure } from './hints.js';

/**
 * Run the client-side TLS handshake on a client stream whose first bytes (the ClientHello) were
 * already read: they are put back, then Node's TLSSocket takes the stream over (a socket: its
 * native handle, no JS stream in between; a TLS stream to the proxy itself: TLS inside TLS). The TLS socket is created before this function returns (what
 * `CertStore.handshakeContext` needs); `settings` gives ALPN and client certificate requests.
 * A handshake not complete within `timeoutSeconds` (`request_head_timeout`; 0: no limit) fails:
 * a client that sends its ClientHello and then stalls holds no connection until `tcp_timeout`.
 */
export function acceptTls(
  socket: Duplex,
  buffered: Buffer,
  settings: TlsSettings,
  secureContext: tls.SecureContext,
  timeoutSeconds = 0,
): Promise<tls.TLSSocket> {
  socket.removeAllListeners('data');
  socket.removeAllListeners('end');
  socket.pause();
  if (buffered.length > 0) socket.unshift(buffered);
  const t = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext,
    ...(settings.alpnProtocols && settings.alpnProtocols.length ? { ALPNProtocols: settings.alpnProtocols } : {}),
    requestCert: settings.requestCert ?? false,
    rejectUnauthorized: false,
  });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      cleanup();
      t.destroy();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the client closed the connection during the TLS handshake'));
    };
    const deadline =
      timeoutSeconds > 0
        ? headTimeouts.expectWithin(t, timeoutSeconds * 1000, () =>
            onError(new Error(`the TLS handshake did not complete within ${timeoutSeconds} s (request_head_timeout)`)),
          )
        : null;
    const cleanup = (): void => {
      deadline?.done();
      t.removeListener('error', onError);
      t.removeListener('close', onClose);
    };
    t.once('secure', () => {
      cleanup();
      resolve(t);
    });
    t.once('error', onError);
    t.once('close', onClose);
  });
}

/**
 * Does this handshake error mean the client rejected our certificate? Either it sent a distrust
 * alert, or it is a client that rejects by closing without one (Node.js, Java's HttpClient:
 * pass its ClientHello to tell). The log line and the fix: `describeClientTlsFailure` in
 * hints.ts.
 */
export function clientDistrustsCert(err: Error, clientHello: ClientHello | null = null): boolean {
  return describeClientTlsFailure({ error: err, clientHello, serverName: '', caCertPath: '' }).distrust;
}
