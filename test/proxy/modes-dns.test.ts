// dns mode and reverse:dns with real DNS clients (Node's c-ares resolver over UDP, a raw DNS-over-
// TCP client) and a real name server (UDP and TCP, made here with the DNS codec).
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createProxy,
  DNSClass,
  DNSMessage,
  DNSQuestion,
  DNSResourceRecord,
  DNSType,
  dnswire,
  ipBytes,
  type DNSFlow,
  type EmbeddedProxy,
} from '@mitmts/sdk';
import { DnsResolver } from '@mitmts/addon-dnsresolver';
import { StripDnsHttpsRecords } from '@mitmts/addon-stripdnshttpsrecords';
import { confdirWithCa } from '../helpers/cli.js';
import { listenerPort } from '../helpers/modes.js';

const {
  addressHint,
  frameTcp,
  packMessage,
  packSvcb,
  parseSvcb,
  svcbAlpn,
  SvcParamKey,
  TcpMessageReader,
  unpackMessage,
} = dnswire;

/** The name server's zone. */
function answer(q: DNSQuestion): DNSResourceRecord[] | null {
  if (q.name !== 'example.test') return null;
  switch (q.type) {
    case DNSType.A:
      return [DNSResourceRecord.A(q.name, '192.0.2.10', 300)];
    case DNSType.AAAA:
      return [new DNSResourceRecord(q.name, DNSType.AAAA, DNSClass.IN, 300, ipBytes('2001:db8::10')!)];
    case DNSType.TXT:
      return [new DNSResourceRecord(q.name, DNSType.TXT, DNSClass.IN, 300, Buffer.from('\x05hello', 'latin1'))];
    case DNSType.HTTPS: {
      const alpn = Buffer.from('\x02h3\x02h2', 'latin1');
      const data = packSvcb({
        priority: 1,
        targetName: '',
        params: [
          [SvcParamKey.ALPN, alpn],
          [SvcParamKey.IPV4HINT, addressHint(['192.0.2.10'])],
          [SvcParamKey.ECH, Buffer.from('fake-ech-config')],
        ],
      });
      return [new DNSResourceRecord(q.name, DNSType.HTTPS, DNSClass.IN, 300, data)];
    }
    default:
      return [];
  }
}

/** Queries the name server received (name and type). */
const asked: string[] = [];

function respond(query: Buffer): Buffer {
  const m = unpackMessage(query);
  const q = m.questions[0]!;
  asked.push(`${q.name} ${q.type}`);
  const records = answer(q);
  return packMessage(records === null ? m.fail(3) : m.succeed(records));
}

let udp: dgram.Socket;
let tcp: net.Server;
let nsPort: number;
let proxy: EmbeddedProxy;
const hooks: string[] = [];

beforeAll(async () => {
  tcp = net.createServer((s) => {
    const reader = new TcpMessageReader();
    s.on('data', (d: Buffer) => reader.push(d).forEach((m) => s.write(frameTcp(respond(Buffer.from(m))))));
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  nsPort = (tcp.address() as net.AddressInfo).port;
  udp = dgram.createSocket('udp4');
  udp.on('message', (msg, from) => udp.send(respond(msg), from.port, from.address));
  await new Promise<void>((r) => udp.bind(nsPort, '127.0.0.1', r));
  proxy = await createProxy({
    confdir: confdirWithCa(),
    options: { mode: ['dns@0', `reverse:dns://127.0.0.1:${nsPort}@0`], dns_name_servers: [`127.0.0.1:${nsPort}`] },
    addons: [
      {
        name: 'answers',
        // An addon answers one name itself: the name server is never asked.
        dns_request: (f: DNSFlow) => {
          hooks.push(`request ${f.request.questions[0]!.name}`);
          if (f.request.questions[0]!.name === 'by-addon.test')
            f.response = f.request.succeed([DNSResourceRecord.A('by-addon.test', '198.51.100.7')]);
        },
        dns_response: (f: DNSFlow) => void hooks.push(`response ${f.request.questions[0]!.name}`),
        dns_error: (f: DNSFlow) => void hooks.push(`error ${f.request.questions[0]!.name}: ${f.error?.msg}`),
      },
      new DnsResolver(),
      new StripDnsHttpsRecords(),
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  udp?.close();
  await new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
});

/** Node's resolver (c-ares, UDP) pointed at a listener of the proxy. */
function resolverFor(prefix: string): Resolver {
  const r = new Resolver({ timeout: 3000, tries: 1 });
  r.setServers([`127.0.0.1:${listenerPort(proxy, prefix)}`]);
  return r;
}

/** One raw query over UDP to a listener, for record types Node's resolver does not ask for. */
function rawQuery(port: number, name: string, type: number): Promise<DNSMessage> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('message', (m) => {
      s.close();
      resolve(unpackMessage(m));
    });
    s.on('error', reject);
    s.send(
      packMessage(
        new DNSMessage({
          id: 4242,
          query: true,
          recursionDesired: true,
          questions: [new DNSQuestion(name, type, DNSClass.IN)],
        }),
      ),
      port,
      '127.0.0.1',
    );
  });
}

describe('dns mode', () => {
  it('logs the listeners as mitmproxy does', () => {
    const lines = proxy.logs.map((e) => e.message);
    expect(lines).toContain(`DNS server listening at 127.0.0.1:${listenerPort(proxy, 'dns')}.`);
    expect(lines).toContain(
      `Reverse proxy to dns://127.0.0.1:${nsPort} listening at 127.0.0.1:${listenerPort(proxy, 'reverse:dns')}.`,
    );
  });

  it('answers A and AAAA from the name servers (dnsresolver), as DNS flows with their hooks', async () => {
    const r = resolverFor('dns');
    expect(await r.resolve4('example.test')).toEqual(['192.0.2.10']);
    expect(await r.resolve6('example.test')).toEqual(['2001:db8::10']);
    const f = proxy.flows
      .all()
      .find((x) => x.type === 'dns' && (x as DNSFlow).request.questions[0]!.type === DNSType.A) as DNSFlow;
    expect(f.response!.answers.map(String)).toEqual(['192.0.2.10']);
    expect([f.clientConn.proxyMode, f.clientConn.transportProtocol, f.live]).toEqual(['dns@0', 'udp', false]);
    expect(hooks).toContain('response example.test');
  });

  it('uses the hosts file first (dns_use_hosts_file)', async () => {
    asked.length = 0;
    expect(await resolverFor('dns').resolve4('localhost')).toEqual(['127.0.0.1']);
    expect(asked).toEqual([]);
  });

  it('forwards other types to the name server; NXDOMAIN comes back as such', async () => {
    const r = resolverFor('dns');
    expect(await r.resolveTxt('example.test')).toEqual([['hello']]);
    await expect(r.resolve4('nx.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('an addon answers in dns_request: the name server is not asked', async () => {
    asked.length = 0;
    expect(await resolverFor('dns').resolve4('by-addon.test')).toEqual(['198.51.100.7']);
    expect(asked).toEqual([]);
  });

  it('strips h3 and ECH from HTTPS records (strip_dns_https_records), keeping the rest', async () => {
    const m = await rawQuery(listenerPort(proxy, 'dns'), 'example.test', DNSType.HTTPS);
    const d = parseSvcb(m.answers[0]!.data);
    expect(svcbAlpn(d)).toEqual(['h2']);
    expect(d.params.map(([k]) => k)).toEqual([SvcParamKey.ALPN, SvcParamKey.IPV4HINT]);
    proxy.kernel.options.update({ strip_ech: false });
    try {
      const kept = parseSvcb(
        (await rawQuery(listenerPort(proxy, 'dns'), 'example.test', DNSType.HTTPS)).answers[0]!.data,
      );
      expect(svcbAlpn(kept)).toEqual(['h2']);
      expect(kept.params.map(([k]) => k)).toContain(SvcParamKey.ECH);
    } finally {
      proxy.kernel.options.update({ strip_ech: true });
    }
  });

  it('DNS over TCP on the same port', async () => {
    const port = listenerPort(proxy, 'dns');
    const m = await new Promise<DNSMessage>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () =>
        s.write(
          frameTcp(
            packMessage(
              new DNSMessage({
                id: 7,
                query: true,
                questions: [new DNSQuestion('example.test', DNSType.A, DNSClass.IN)],
              }),
            ),
          ),
        ),
      );
      const reader = new TcpMessageReader();
      s.on('data', (d: Buffer) => {
        const [msg] = reader.push(d);
        if (msg) {
          s.end();
          resolve(unpackMessage(Buffer.from(msg)));
        }
      });
      s.on('error', reject);
    });
    expect([m.id, m.answers.map(String)]).toEqual([7, ['192.0.2.10']]);
    const f = proxy.flows.all().find((x) => x.type === 'dns' && x.clientConn.transportProtocol === 'tcp') as DNSFlow;
    expect(f.response).not.toBeNull();
  });

  it('a malformed query gets FORMERR', async () => {
    const got = await new Promise<Buffer>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => {
        s.close();
        resolve(m);
      });
      s.send(Buffer.from('abcdefghijkl\x05bro', 'latin1'), listenerPort(proxy, 'dns'), '127.0.0.1');
    });
    expect(got.readUInt16BE(0)).toBe(0x6162);
    expect(got.readUInt16BE(2) & 0x800f).toBe(0x8001);
    expect(proxy.logs.map((e) => e.message).join('\n')).toMatch(/malformed DNS query: DNS question #0: /);
  });
});

describe('reverse:dns', () => {
  it('forwards every query to its name server', async () => {
    asked.length = 0;
    const r = resolverFor('reverse:dns');
    expect(await r.resolveTxt('example.test')).toEqual([['hello']]);
    expect(await r.resolve4('example.test')).toEqual(['192.0.2.10']);
    expect(asked).toEqual([`example.test ${DNSType.TXT}`, `example.test ${DNSType.A}`]);
    const f = proxy.flows
      .all()
      .find((x) => x.type === 'dns' && x.clientConn.proxyMode.startsWith('reverse:dns')) as DNSFlow;
    expect(f.serverConn.address).toEqual(['127.0.0.1', nsPort]);
  });
});

describe('dns mode without a resolver addon', () => {
  it('answers SERVFAIL and fires dns_error with what to do', async () => {
    const errors: string[] = [];
    const bare = await createProxy({
      confdir: confdirWithCa(),
      options: { mode: ['dns@0'] },
      addons: [{ name: 'e', dns_error: (f: DNSFlow) => void errors.push(f.error!.msg) }],
    });
    try {
      const m = await new Promise<DNSMessage>((resolve) => {
        const s = dgram.createSocket('udp4');
        s.on('message', (x) => {
          s.close();
          resolve(unpackMessage(x));
        });
        s.send(
          packMessage(
            new DNSMessage({
              id: 9,
              query: true,
              questions: [new DNSQuestion('example.test', DNSType.A, DNSClass.IN)],
            }),
          ),
          bare.port,
          '127.0.0.1',
        );
      });
      expect(m.responseCode).toBe(2);
      expect(errors[0]).toMatch(/^No addon answered this DNS query .* load the dnsresolver addon/);
    } finally {
      await bare.close();
    }
  });
});
