export { DnsResolver, parseNameServer } from './dnsresolver.js';
export { HostsFile, parseHosts, type HostsTable } from './hosts.js';
export { DnsResolver as default } from './dnsresolver.js';
