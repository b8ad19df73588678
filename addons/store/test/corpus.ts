// Flows of every kind and in every corner the SQL prefilters care about, for the store's tests.
import { join } from 'node:path';
import { type Flow, FlowReader, HTTPHeaders, TCPMessage } from '@mitmts/sdk';
import { tdnsflow, tflow, ttcpflow, tudpflow, twebsocketflow, terr } from '@mitmts/sdk/testing';

const FIXTURE = join(import.meta.dirname, '../../../test/fixtures/mitmproxy-8.1.1/flows.mitm');

/** mitmproxy 8.1.1's flows plus crafted ones (IDN and Kelvin-sign hosts, odd methods, ...). */
export function corpus(): Flow[] {
  const flows: Flow[] = [...new FlowReader(FIXTURE)];
  const http = (
    edit: (f: ReturnType<typeof tflow>) => void,
    opts: Parameters<typeof tflow>[0] = { resp: true },
  ): void => {
    const f = tflow(opts);
    edit(f);
    flows.push(f);
  };
  http((f) => (f.request.host = 'example.com'));
  http((f) => {
    f.request.host = 'api.example.org';
    f.response!.statusCode = 404;
  });
  http((f) => {
    f.request.host = 'bücher.example';
    f.response!.statusCode = 404;
  });
  // U+212A KELVIN SIGN: Python's case-insensitive `k` matches it, SQLite's LIKE does not.
  http((f) => (f.request.host = '\u212Aelvin.test'));
  http((f) => {
    f.request.method = 'get';
    f.request.path = '/a%b_c\\d?q=1';
  });
  http((f) => {
    f.request.method = 'PROPFIND';
    f.request.path = '/dav/*star?[x]';
  });
  http((f) => {
    f.response!.headers = new HTTPHeaders([
      ['Content-Type', 'text/html; charset=utf-8'],
      ['content-type', 'application/json'],
    ]);
  });
  http((f) => (f.response!.headers = new HTTPHeaders([['content-type', '']])));
  http(
    (f) =>
      (f.request.headers = new HTTPHeaders([
        ['Host', 'virtual.example.net'],
        ['content-type', 'application/x-www-form-urlencoded'],
      ])),
  );
  http((f) => {
    f.marked = ':default:';
    f.comment = 'first line\nsecond LINE';
  });
  http((f) => {
    f.marked = 'star';
    f.isReplay = 'request';
  });
  http((f) => (f.isReplay = 'response'));
  http((f) => (f.error = terr('Connection killed.')), { err: true });
  http(() => undefined, { resp: false });
  // A compressed body: its text is not in the record's bytes (the raw test must not skip it).
  http((f) => {
    f.response!.headers = new HTTPHeaders([
      ['content-type', 'text/plain'],
      ['Content-Encoding', 'gzip'],
    ]);
    f.response!.content = Buffer.from('a gzipped needle');
  });
  flows.push(twebsocketflow());
  const tcp = ttcpflow();
  tcp.messages.push(new TCPMessage(true, Buffer.from('needle in tcp')));
  flows.push(tcp, ttcpflow({ err: true }), tudpflow(), tdnsflow({ resp: true }), tdnsflow({ err: true }));
  const dns = tdnsflow({ resp: true });
  dns.request.questions = [];
  flows.push(dns);
  return flows;
}

/** Filter expressions covering every operator, literals with SQL wildcards, anchors, negations. */
export const EXPRESSIONS = [
  '~all',
  '~http',
  '~tcp',
  '~udp',
  '~dns',
  '~websocket',
  '~q',
  '~s',
  '~e',
  '~marked',
  '~replay',
  '~replayq',
  '~replays',
  '~a',
  '~c 200',
  '~c 404',
  '~c 0',
  '!~c 200',
  '~s & ~c 404',
  '~q | ~c 404',
  '~d example',
  '~d EXAMPLE.com',
  '~d ^api\\.',
  '~d \\.org$',
  '~d k',
  '~d K',
  '~d kelvin',
  '~d ü',
  '~d example|kelvin',
  '~d ex.mple',
  '~d virtual',
  '~d ""',
  '~u /path',
  '~u %b_c',
  '~u \\\\d',
  '~u example.com',
  '~u ^http://',
  '~u star',
  'address',
  '~u ""',
  '!~u a',
  '~m GET',
  '~m ^get$',
  '~m PROP',
  '!~m GET',
  '~m g.t',
  '~t json',
  '~t html',
  '~tq form',
  '~ts json',
  '~ts ""',
  '~t ""',
  '!~ts json',
  '~h content',
  '~hq host',
  '~hs json',
  '~b needle',
  '~bq content',
  '~bs message',
  '~meta x',
  '~src 127',
  '~dst address',
  '~src ""',
  '~dst :22',
  '~marker default',
  '~marker star',
  '~marker ^$',
  '~comment line',
  '~comment LINE$',
  '~comment ^second',
  '~d example & ~c 404',
  '~d example | ~c 404',
  '!(~d example | ~c 404)',
  '!~d example & !~h foo',
  '!(~h content & ~d example)',
  '~d example ~c 404',
  '( ~d example | ~tcp ) & !~e',
  '!!~q',
  '!(~b needle)',
  '~u "(a|b)+"',
  '~d [ae]xample',
  '~d exam?ple',
  '~marker ^',
  '~comment $',
  '~b gzipped',
  '~bs "gzipped needle"',
  '~b needle | ~d example',
  '~b needle & ~c 200',
  '~b ^a',
  '~b nee.le',
];
