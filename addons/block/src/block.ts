import { addon, inject, LOG, option, type AddonHooks, type Client, type Logger } from '@mitmts/sdk';
import { isGlobal, isLoopback, isPrivate, parseIp, unmapIpv4 } from './address.js';

/**
 * Refuse clients by where they connect from (mitmproxy's `block` addon): by default everyone
 * outside private networks, so a proxy bound to a public interface is not an open proxy.
 * Loopback clients (and local-mode captures) are never refused. The refusal sets
 * `client.error`, which makes the runtime close the connection before reading a byte.
 */
@addon({ name: 'block', description: 'Refuse clients from public or private addresses.' })
export class Block implements AddonHooks {
  @option({ type: 'bool', default: true, help: 'Block connections from public IP addresses.' })
  block_global!: boolean;

  @option({
    type: 'bool',
    default: false,
    help:
      'Block connections from local (private) IP addresses. This option does not affect loopback addresses ' +
      '(connections from the local machine), which are always permitted.',
  })
  block_private!: boolean;

  constructor(@inject(LOG) private readonly log: Logger) {}

  client_connected(client: Client): void {
    const blockGlobal = this.block_global;
    const blockPrivate = this.block_private;
    if (!blockGlobal && !blockPrivate) return;
    const host = client.peername?.[0];
    if (host === undefined || client.proxyMode.startsWith('local')) return;
    const parsed = parseIp(host);
    if (parsed === null) {
      this.log.debug(`Client address ${JSON.stringify(host)} is not an IP address; block does not apply.`);
      return;
    }
    const ip = unmapIpv4(parsed);
    if (isLoopback(ip)) return;
    if (blockPrivate && isPrivate(ip)) {
      this.log.warn(`Client connection from ${host} killed by block_private option.`);
      client.error = 'Connection killed by block_private.';
    }
    if (blockGlobal && isGlobal(ip)) {
      this.log.warn(`Client connection from ${host} killed by block_global option.`);
      client.error = 'Connection killed by block_global.';
    }
  }
}
