import { Resolver } from 'node:dns/promises';
import {
  addon,
  DNSClass,
  DNSOpCode,
  DNSResourceRecord,
  DNSResponseCode,
  DNSType,
  FlowError,
  ipBytes,
  option,
  OptionsError,
  parseMode,
  type AddonHooks,
  type Client,
  type DNSFlow,
} from '@mitmts/sdk';
import { HostsFile } from './hosts.js';

/** A name server as `host` or `host:port` (IPv6 as `[addr]:port`) -> [host, port]. */
export function parseNameServer(spec: string): [string, number] {
  const m =
    /^\[([^\]]+)\](?::(\d+))?$/.exec(spec) ?? /^([^:]+)(?::(\d+))?$/.exec(spec) ?? /^([0-9a-f:]+)()$/i.exec(spec);
  const host = m?.[1];
  if (!host || ipBytes(host) === null)
    throw new OptionsError(
      `Option dns_name_servers: ${JSON.stringify(spec)} is not an IP address (or ip:port, [ipv6]:port).`,
    );
  return [host, m[2] ? Number(m[2]) : 53];
}

const isDnsMode = new Map<string, boolean>();

function dnsMode(client: Client): boolean {
  let v = isDnsMode.get(client.proxyMode);
  if (v === undefined) {
    try {
      v = parseMode(client.proxyMode).type === 'dns';
    } catch {
      v = false;
    }
    isDnsMode.set(client.proxyMode, v);
  }
  return v;
}

/**
 * Answers the queries of dns mode (mitmproxy's `dns_resolver`): A and AAAA from the hosts file
 * (`dns_use_hosts_file`), else from the name servers (`dns_name_servers`, default the system's);
 * any other query is forwarded to the first name server. Queries an addon before it answered
 * are left alone; `reverse:dns` listeners need no resolver (they forward to their server).
 */
@addon({ name: 'dnsresolver', description: 'Resolve DNS queries in DNS mode.' })
export class DnsResolver implements AddonHooks {
  @option({ type: 'bool', default: true, help: 'Use the hosts file for DNS lookups in DNS mode.' })
  dns_use_hosts_file!: boolean;

  @option({
    type: 'str[]',
    default: [],
    help: "Name servers to use for lookups in DNS mode (ip, or ip:port). Default: the operating system's name servers.",
  })
  dns_name_servers!: readonly string[];

  private resolver = new Resolver();
  private servers: Array<[string, number]> = [];
  private readonly hosts = new HostsFile('/etc/hosts');

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('dns_name_servers')) return;
    const resolver = new Resolver();
    if (this.dns_name_servers.length > 0) {
      const servers = this.dns_name_servers.map(parseNameServer);
      resolver.setServers(servers.map(([h, p]) => (h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`)));
    }
    this.resolver = resolver;
    this.servers = resolver.getServers().map((s) => parseNameServer(s));
  }

  dns_request(flow: DNSFlow): void | Promise<void> {
    if (!flow.live || flow.response || flow.error || !dnsMode(flow.clientConn)) return;
    const req = flow.request;
    const q = req.questions[0];
    const ipLookup =
      req.query &&
      req.opCode === DNSOpCode.QUERY &&
      req.questions.length === 1 &&
      q!.class_ === DNSClass.IN &&
      (q!.type === DNSType.A || q!.type === DNSType.AAAA);
    if (ipLookup) return this.resolve(flow, q!.name, q!.type === DNSType.A ? 4 : 6);
    const server = this.servers[0];
    if (server) flow.serverConn.address = server;
    else
      flow.error = new FlowError(
        'Cannot resolve a query other than A/AAAA without a name server (set dns_name_servers).',
      );
  }

  private async resolve(flow: DNSFlow, name: string, family: 4 | 6): Promise<void> {
    const type = family === 4 ? DNSType.A : DNSType.AAAA;
    const record = (ip: string, ttl: number): DNSResourceRecord =>
      new DNSResourceRecord(name, type, DNSClass.IN, ttl, ipBytes(ip)!);
    const fromHosts = this.dns_use_hosts_file ? this.hosts.lookup(name, family) : [];
    if (fromHosts.length > 0) {
      flow.response = flow.request.succeed(fromHosts.map((ip) => record(ip, DNSResourceRecord.DEFAULT_TTL)));
      return;
    }
    try {
      const found =
        family === 4
          ? await this.resolver.resolve4(name, { ttl: true })
          : await this.resolver.resolve6(name, { ttl: true });
      flow.response = flow.request.succeed(found.map((a) => record(a.address, a.ttl)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA') flow.response = flow.request.succeed([]);
      else
        flow.response = flow.request.fail(code === 'ENOTFOUND' ? DNSResponseCode.NXDOMAIN : DNSResponseCode.SERVFAIL);
    }
  }
}
