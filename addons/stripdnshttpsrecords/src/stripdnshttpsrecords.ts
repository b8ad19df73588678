import { addon, dnswire, option, type AddonHooks, type DNSFlow } from '@mitmts/sdk';

const { editSvcbRecord, stripEch, stripHttp3 } = dnswire;

/**
 * Edits DNS HTTPS and SVCB records in answers (mitmproxy's `strip_dns_https_records`): removes
 * `h3` (HTTP/3, which mitmts cannot intercept: Node 20 has no QUIC) from `alpn`, so browsers use
 * HTTP/2 or HTTP/1.1 over TCP; and removes Encrypted ClientHello configs (`ech`) unless
 * `strip_ech` is off, so the proxy sees the real SNI.
 */
@addon({ name: 'stripdnshttpsrecords', description: 'Remove HTTP/3 and ECH from DNS HTTPS records.' })
export class StripDnsHttpsRecords implements AddonHooks {
  @option({
    type: 'bool',
    default: true,
    help: 'Strip Encrypted ClientHello (ECH) data from DNS HTTPS records so that mitmts can generate matching certificates.',
  })
  strip_ech!: boolean;

  dns_response(flow: DNSFlow): void {
    const response = flow.response;
    if (!response) return;
    const edit = (d: dnswire.SvcbData): dnswire.SvcbData | null => {
      const noH3 = stripHttp3(d);
      const noEch = this.strip_ech ? stripEch(noH3 ?? d) : null;
      return noEch ?? noH3;
    };
    for (const r of [...response.answers, ...response.additionals]) {
      try {
        editSvcbRecord(r, edit);
      } catch {
        // A malformed record stays as it came: the client will judge it.
      }
    }
  }
}
