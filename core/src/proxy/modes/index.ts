import type net from 'node:net';
import type { Logger } from '../../kernel/log.js';
import type { ModeHandler } from '../connection.js';
import type { ProxyMode } from '../modes.js';
import { dnsTcpMode } from './dns.js';
import { regularMode } from './regular.js';
import { reverseMode } from './reverse.js';
import { socks5Mode } from './socks5.js';
import { prepareTransparentListener } from './tproxy.js';
import { transparentMode } from './transparent.js';
import { upstreamMode } from './upstream.js';

/**
 * The first layer of a connection per proxy mode: one file per mode, one entry here. Modes
 * without an entry (and without a listener of their own, as dns) are refused when the option is
 * set, with {@link modeRefusal}'s reason.
 */
export const MODE_HANDLERS: Readonly<Partial<Record<ProxyMode['type'], ModeHandler>>> = {
  regular: regularMode,
  upstream: upstreamMode,
  reverse: reverseMode,
  socks5: socks5Mode,
  transparent: transparentMode,
  dns: dnsTcpMode,
};

/** Modes that also listen on UDP, on the same port as their TCP listener: dns, `reverse:dns`. */
export function listensOnUdp(mode: ProxyMode): boolean {
  return mode.type === 'dns' || (mode.type === 'reverse' && mode.server?.scheme === 'dns');
}

/** Work a mode's TCP listener needs once it listens (transparent: `IP_TRANSPARENT`). */
export const LISTENER_SETUP: Readonly<
  Partial<Record<ProxyMode['type'], (server: net.Server, spec: string, log: Logger) => void>>
> = {
  transparent: prepareTransparentListener,
};

const SEE = 'see docs/modes.md';

/**
 * Why mitmts cannot run this (valid) mode spec, and what to use instead; null if it can. These
 * modes need platform drivers or QUIC, which Node 20 does not have.
 */
export function modeRefusal(mode: ProxyMode): string | null {
  const why = ((): string | null => {
    switch (mode.type) {
      case 'wireguard':
        return `wireguard mode needs a userspace WireGuard stack mitmts does not have. On Linux, run kernel WireGuard (wg-quick) and send the WireGuard interface's traffic into transparent mode with TPROXY; ${SEE}.`;
      case 'local':
        return `local mode needs an OS-level process redirector mitmts does not have. Point the program at a regular-mode listener (HTTP_PROXY/HTTPS_PROXY; socks5 mode for programs that only speak SOCKS), or use transparent mode on Linux; ${SEE}.`;
      case 'tun':
        return `tun mode needs a userspace TCP/IP stack mitmts does not have. On Linux, route the traffic into transparent mode with TPROXY instead; ${SEE}.`;
      case 'reverse': {
        const scheme = mode.server!.scheme;
        if (scheme === 'http3' || scheme === 'quic') {
          return `HTTP/3 and QUIC need QUIC, which Node 20 does not have. Use reverse:https://${mode.data.replace(/^[a-z0-9]+:\/\//i, '')} instead: clients fall back to HTTP/1.1 or HTTP/2 over TCP; ${SEE}.`;
        }
        if (scheme === 'udp' || scheme === 'dtls')
          return `mitmts has no UDP relay (udp, dtls targets); it reverse-proxies TCP targets (http, https, tls, tcp) and DNS (dns); ${SEE}.`;
        return null;
      }
      default:
        return null;
    }
  })();
  return why === null ? null : `Proxy mode ${mode.fullSpec} is not supported: ${why}`;
}
