import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNSClass, DNSMessage, DNSQuestion, DNSResourceRecord, DNSType, dnswire } from '@mitmts/sdk';
import { tdnsflow, withAddons } from '@mitmts/sdk/testing';
import { DnsResolver, parseHosts, parseNameServer } from '@mitmts/addon-dnsresolver';

const { packMessage, unpackMessage } = dnswire;

function query(name: string, type: number, mode = 'dns'): ReturnType<typeof tdnsflow> {
  const f = tdnsflow({
    req: new DNSMessage({ id: 1, query: true, questions: [new DNSQuestion(name, type, DNSClass.IN)] }),
  });
  f.clientConn.proxyMode = mode;
  return f;
}

// A name server on loopback: knows a.test (A 192.0.2.1); anything else does not exist.
let ns: dgram.Socket;
let nsPort: number;
beforeAll(async () => {
  ns = dgram.createSocket('udp4');
  ns.on('message', (msg, from) => {
    const m = unpackMessage(msg);
    const q = m.questions[0]!;
    const answer =
      q.name === 'a.test'
        ? m.succeed(q.type === DNSType.A ? [DNSResourceRecord.A('a.test', '192.0.2.1', 120)] : [])
        : m.fail(3);
    ns.send(packMessage(answer), from.port, from.address);
  });
  await new Promise<void>((r) => ns.bind(0, '127.0.0.1', r));
  nsPort = ns.address().port;
});
afterAll(() => ns.close());

describe('dnsresolver', () => {
  it('parses name servers and refuses what is not an address', () => {
    expect(parseNameServer('1.1.1.1')).toEqual(['1.1.1.1', 53]);
    expect(parseNameServer('127.0.0.1:5353')).toEqual(['127.0.0.1', 5353]);
    expect(parseNameServer('[::1]:5353')).toEqual(['::1', 5353]);
    expect(parseNameServer('2001:db8::1')).toEqual(['2001:db8::1', 53]);
    expect(() => parseNameServer('dns.example')).toThrow(
      'Option dns_name_servers: "dns.example" is not an IP address (or ip:port, [ipv6]:port).',
    );
  });

  it('parses hosts files (comments, aliases, both families)', () => {
    const t = parseHosts('127.0.0.1 localhost loc # me\n::1 localhost ip6-localhost\n# 10.0.0.1 gone\nbad line\n');
    expect(t.get('localhost')).toEqual(['127.0.0.1', '::1']);
    expect(t.get('loc')).toEqual(['127.0.0.1']);
    expect(t.has('gone')).toBe(false);
  });

  it('answers A from the name servers with their TTL; NXDOMAIN for unknown names', async () => {
    const tctx = await withAddons([DnsResolver], {
      dns_name_servers: [`127.0.0.1:${nsPort}`],
      dns_use_hosts_file: false,
    });
    const f = query('a.test', DNSType.A);
    await tctx.trigger('dns_request', f);
    expect(f.response!.answers.map((r) => [String(r), r.ttl])).toEqual([['192.0.2.1', 120]]);
    const nx = query('nope.test', DNSType.A);
    await tctx.trigger('dns_request', nx);
    expect(nx.response!.responseCode).toBe(3);
    const empty = query('a.test', DNSType.AAAA);
    await tctx.trigger('dns_request', empty);
    expect([empty.response!.responseCode, empty.response!.answers]).toEqual([0, []]);
  });

  it('answers from the hosts file first when dns_use_hosts_file is on', async () => {
    const tctx = await withAddons([DnsResolver], { dns_name_servers: [`127.0.0.1:${nsPort}`] });
    const f = query('localhost', DNSType.A);
    await tctx.trigger('dns_request', f);
    expect(f.response!.answers.map(String)).toEqual(['127.0.0.1']);
  });

  it('forwards other types to the first name server, or fails without one', async () => {
    const tctx = await withAddons([DnsResolver], { dns_name_servers: [`127.0.0.1:${nsPort}`] });
    const f = query('a.test', DNSType.TXT);
    await tctx.trigger('dns_request', f);
    expect([f.response, f.serverConn.address]).toEqual([null, ['127.0.0.1', nsPort]]);
  });

  it('leaves other modes and answered queries alone', async () => {
    const tctx = await withAddons([DnsResolver], { dns_name_servers: [`127.0.0.1:${nsPort}`] });
    const reverse = query('a.test', DNSType.A, 'reverse:dns://9.9.9.9');
    await tctx.trigger('dns_request', reverse);
    expect(reverse.response).toBeNull();
    const answered = query('a.test', DNSType.A);
    answered.response = answered.request.succeed([]);
    await tctx.trigger('dns_request', answered);
    expect(answered.response.answers).toEqual([]);
  });
});
