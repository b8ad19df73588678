import { describe, expect, it } from 'vitest';
import { DNSClass, DNSMessage, DNSQuestion, DNSResourceRecord, DNSType, dnswire } from '@mitmts/sdk';
import { tdnsflow, withAddons } from '@mitmts/sdk/testing';
import { StripDnsHttpsRecords } from '@mitmts/addon-stripdnshttpsrecords';

const { packSvcb, parseSvcb, svcbAlpn, SvcParamKey } = dnswire;

const alpn = (...ids: string[]): Buffer =>
  Buffer.concat(ids.map((id) => Buffer.concat([Buffer.from([id.length]), Buffer.from(id)])));

function answered(...params: Array<[number, Buffer]>): ReturnType<typeof tdnsflow> {
  const q = new DNSQuestion('example.com', DNSType.HTTPS, DNSClass.IN);
  const f = tdnsflow({ req: new DNSMessage({ id: 1, query: true, questions: [q] }) });
  f.response = f.request.succeed([
    new DNSResourceRecord(
      'example.com',
      DNSType.HTTPS,
      DNSClass.IN,
      60,
      packSvcb({ priority: 1, targetName: '', params }),
    ),
    DNSResourceRecord.A('example.com', '192.0.2.1'),
  ]);
  return f;
}

describe('strip_dns_https_records', () => {
  it('removes h3 and ECH, keeps the other parameters and records', async () => {
    const tctx = await withAddons([StripDnsHttpsRecords]);
    const f = answered(
      [SvcParamKey.ALPN, alpn('h3', 'h3-29', 'h2')],
      [SvcParamKey.ECH, Buffer.from('ech')],
      [SvcParamKey.PORT, Buffer.from([1, 187])],
    );
    await tctx.trigger('dns_response', f);
    const d = parseSvcb(f.response!.answers[0]!.data);
    expect(svcbAlpn(d)).toEqual(['h2']);
    expect(d.params.map(([k]) => k)).toEqual([SvcParamKey.ALPN, SvcParamKey.PORT]);
    expect(String(f.response!.answers[1])).toBe('192.0.2.1');
  });

  it('keeps ECH with strip_ech off (h3 still goes)', async () => {
    const tctx = await withAddons([StripDnsHttpsRecords], { strip_ech: false });
    const f = answered([SvcParamKey.ALPN, alpn('h3')], [SvcParamKey.ECH, Buffer.from('ech')]);
    await tctx.trigger('dns_response', f);
    const d = parseSvcb(f.response!.answers[0]!.data);
    expect(svcbAlpn(d)).toBeNull();
    expect(d.params.map(([k]) => k)).toEqual([SvcParamKey.ECH]);
  });

  it('leaves a malformed record as it came', async () => {
    const tctx = await withAddons([StripDnsHttpsRecords]);
    const f = answered();
    f.response!.answers[0]!.data = Buffer.from([0, 1]);
    await tctx.trigger('dns_response', f);
    expect([...f.response!.answers[0]!.data]).toEqual([0, 1]);
  });
});
