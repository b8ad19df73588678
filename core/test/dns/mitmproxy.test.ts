/**
 * The DNS codec against mitmproxy's own (Debian's mitmproxy 8.1.1, `mitmproxy.dns.Message`), the
 * live oracle: messages we write are read by mitmproxy as we read them, and messages mitmproxy
 * writes read back here with the same fields.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DNSMessage, DNSQuestion, DNSResourceRecord, DNSType } from '../../src/flow/index.js';
import { packMessage, unpackMessage } from '../../src/proxy/dns/index.js';
import { canInstall, installDebianPackages } from '../../../scripts/debian.mjs';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

function mitmproxyOrWhy(): string | null {
  const ok = () => {
    try {
      execFileSync(PYTHON, ['-c', 'import mitmproxy.dns'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (ok()) return null;
  if (!canInstall()) return 'mitmproxy (Debian) is missing and this process cannot install Debian packages';
  return installDebianPackages(['mitmproxy']) ?? (ok() ? null : 'mitmproxy.dns does not import after installing');
}

const READ = `
import json, sys
from mitmproxy import dns
m = dns.Message.unpack(bytes.fromhex(sys.argv[1]))
rr = lambda r: [r.name, r.type, r.class_, r.ttl, r.data.hex()]
print(json.dumps([m.id, m.query, m.op_code, m.authoritative_answer, m.truncation, m.recursion_desired, m.recursion_available,
  m.reserved, m.response_code, [[q.name, q.type, q.class_] for q in m.questions], [rr(r) for r in m.answers],
  [rr(r) for r in m.authorities], [rr(r) for r in m.additionals]]))
`;

const WRITE = `
import time
from ipaddress import IPv4Address, IPv6Address
from mitmproxy import dns
from mitmproxy.net.dns import types, classes
q = dns.Question("www.example.com", types.A, classes.IN)
m = dns.Message(timestamp=time.time(), id=4242, query=False, op_code=0, authoritative_answer=True, truncation=False,
  recursion_desired=True, recursion_available=True, reserved=0, response_code=0, questions=[q],
  answers=[dns.ResourceRecord.CNAME("www.example.com", "cdn.example.net"), dns.ResourceRecord.A("cdn.example.net", IPv4Address("192.0.2.7")),
    dns.ResourceRecord.AAAA("cdn.example.net", IPv6Address("2001:db8::7")), dns.ResourceRecord.TXT("example.com", "v=spf1 -all")],
  authorities=[], additionals=[])
print(m.packed.hex())
`;

function ours(m: DNSMessage): unknown[] {
  const rr = (r: DNSResourceRecord) => [r.name, r.type, r.class_, r.ttl, r.data.toString('hex')];
  return [
    m.id,
    m.query,
    m.opCode,
    m.authoritativeAnswer,
    m.truncation,
    m.recursionDesired,
    m.recursionAvailable,
    m.reserved,
    m.responseCode,
    m.questions.map((q) => [q.name, q.type, q.class_]),
    m.answers.map(rr),
    m.authorities.map(rr),
    m.additionals.map(rr),
  ];
}

describe('DNS codec and mitmproxy 8.1.1', () => {
  it('mitmproxy reads what we write', async (ctx) => {
    const why = mitmproxyOrWhy();
    if (why) return ctx.skip(why);
    const m = new DNSMessage({
      id: 777,
      query: false,
      recursionDesired: true,
      recursionAvailable: true,
      questions: [new DNSQuestion('example.org', DNSType.HTTPS, 1)],
      answers: [
        DNSResourceRecord.CNAME('example.org', 'edge.example.net', 300),
        new DNSResourceRecord(
          'edge.example.net',
          DNSType.HTTPS,
          1,
          300,
          Buffer.from('000100000100030268320000', 'hex'),
        ),
      ],
      additionals: [DNSResourceRecord.A('edge.example.net', '198.51.100.1')],
    });
    const { stdout } = await run(PYTHON, ['-c', READ, packMessage(m).toString('hex')]);
    expect(JSON.parse(stdout)).toEqual(ours(m));
  });

  it('we read what mitmproxy writes', async (ctx) => {
    const why = mitmproxyOrWhy();
    if (why) return ctx.skip(why);
    const { stdout } = await run(PYTHON, ['-c', WRITE]);
    const m = unpackMessage(Buffer.from(stdout.trim(), 'hex'));
    expect(m.answers.map(String)).toEqual(['cdn.example.net', '192.0.2.7', '2001:db8::7', 'v=spf1 -all']);
    expect([m.id, m.query, m.authoritativeAnswer, m.recursionDesired, m.recursionAvailable]).toEqual([
      4242,
      false,
      true,
      true,
      true,
    ]);
    const again = await run(PYTHON, ['-c', READ, packMessage(m).toString('hex')]);
    expect(JSON.parse(again.stdout)).toEqual(ours(m));
  });
});
