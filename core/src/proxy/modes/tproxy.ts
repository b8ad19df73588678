/**
 * TPROXY for transparent mode: a listener with `IP_TRANSPARENT` accepts connections addressed to
 * other hosts (an nftables/iptables `tproxy` rule steers them to it), and each accepted socket's
 * local address is the client's original destination. Node cannot set the option itself: the
 * small N-API package `sockopt` (an optional dependency, loaded only here) does.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { OptionsError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/log.js';
import { CONNTRACK_TABLE } from './conntrack.js';

const SOL_IP = 0;
const IP_TRANSPARENT = 19;
const SOL_IPV6 = 41;
const IPV6_TRANSPARENT = 75;

interface Sockopt {
  setsockopt(socket: net.Server, level: number, name: number, value: number): void;
}

/** `sockopt`, or why it cannot be loaded. */
function loadSockopt(): Sockopt | string {
  try {
    // A CommonJS package with a native module: require() it (also from the bundled build).
    return createRequire(import.meta.url)('sockopt') as Sockopt;
  } catch (err) {
    return `the optional package sockopt cannot be loaded (${(err as Error).message.split('\n')[0]}); install it with: npm install sockopt`;
  }
}

/** Set IP_TRANSPARENT (or IPV6_TRANSPARENT) on a listening server; null when done, else why not. */
export function enableTproxy(server: net.Server): string | null {
  const so = loadSockopt();
  if (typeof so === 'string') return so;
  const family = (server.address() as net.AddressInfo | null)?.family;
  try {
    if (family === 'IPv6') so.setsockopt(server, SOL_IPV6, IPV6_TRANSPARENT, 1);
    else so.setsockopt(server, SOL_IP, IP_TRANSPARENT, 1);
    return null;
  } catch (err) {
    const msg = (err as Error).message;
    return /EPERM|not permitted/i.test(msg)
      ? `setting IP_TRANSPARENT needs the CAP_NET_ADMIN capability (run as root, or: setcap cap_net_admin+ep "$(command -v node)")`
      : `setting IP_TRANSPARENT failed: ${msg}`;
  }
}

/**
 * Prepare a transparent-mode listener: TPROXY if it can be had, else REDIRECT rules through the
 * conntrack table (a warning says which); neither is an options error naming both fixes.
 * @throws OptionsError off Linux, or when no original destination can ever be found.
 */
export function prepareTransparentListener(server: net.Server, spec: string, log: Logger): void {
  if (process.platform !== 'linux') {
    throw new OptionsError(
      `Proxy mode ${spec}: transparent mode needs Linux (TPROXY or conntrack to find each connection's original destination); on ${process.platform} use regular or socks5 mode. See docs/modes.md.`,
    );
  }
  const host = (server.address() as net.AddressInfo | null)?.address ?? '';
  if (host.startsWith('127.') || host === '::1') {
    log.warn(
      `Transparent proxy (${spec}) listens on loopback (${host}): only this machine's own programs, through an OUTPUT REDIRECT rule, can reach it. ` +
        `For traffic routed through this machine, listen on every address: --mode transparent@0.0.0.0:PORT. See docs/modes.md.`,
    );
  }
  const why = enableTproxy(server);
  if (why === null) return;
  if (!existsSync(CONNTRACK_TABLE)) {
    throw new OptionsError(
      `Proxy mode ${spec}: cannot find original destinations: TPROXY is unavailable (${why}), and ${CONNTRACK_TABLE} does not exist for REDIRECT rules ` +
        `(load the nf_conntrack module, e.g. by adding the nftables nat rules first; the kernel needs CONFIG_NF_CONNTRACK_PROCFS). See docs/modes.md.`,
    );
  }
  log.warn(
    `Transparent proxy: TPROXY is off (${why}); REDIRECT and DNAT rules still work, through ${CONNTRACK_TABLE}.`,
  );
}
