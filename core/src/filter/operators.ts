/**
 * The filter operators: what each matches against and which flow types it applies to (any other
 * flow type simply does not match). Byte subjects (bodies, headers, content types, methods) are
 * matched as latin1 strings so that every byte is one character.
 */
import type { Flow } from '../flow/flow.js';
import type { HTTPFlow } from '../flow/http-flow.js';
import type { TCPFlow, UDPFlow } from '../flow/tcp-flow.js';
import type { DNSFlow } from '../flow/dns.js';
import type { Headers } from '../flow/headers.js';
import type { Message } from '../flow/message.js';
import { equalsAsciiCI, latin1 } from '../flow/bytes.js';
import { compileFilterRegex, type RegexTester } from './pyregex/index.js';
import { pyStr } from './pyrepr.js';

/** A compiled filter's test. */
export type Matcher = (flow: Flow) => boolean;

export type ArgKind = 'none' | 'regex' | 'int';

/** Everything the parser, compiler and `describe()` need to know about one operator. */
export interface OperatorSpec {
  /** Name without `~`, e.g. `hq`. */
  readonly name: string;
  readonly arg: ArgKind;
  /** One-line help, as in mitmproxy's filter help. */
  readonly help: string;
  /** Human description: the subject for regex operators ("url"), the whole phrase otherwise. */
  readonly describe: string;
  /** Regex flags beyond ignore-case: `m` (multi-line) or `s` (dot-all). */
  readonly reFlags?: 'm' | 's';
  /** True if the subject is bytes (the pattern is UTF-8 encoded and matched against bytes). */
  readonly binary?: boolean;
  readonly build: (arg: RegexTester | number) => Matcher;
}

const isHttp = (f: Flow): f is HTTPFlow => f.type === 'http';
const isDns = (f: Flow): f is DNSFlow => f.type === 'dns';
const isStream = (f: Flow): f is TCPFlow | UDPFlow => f.type === 'tcp' || f.type === 'udp';

function contentType(re: RegexTester, h: Headers): boolean {
  for (const [k, v] of h.fields) if (equalsAsciiCI(k, 'content-type') && re.test(latin1(v))) return true;
  return false;
}

/** A message body for matching: decoded if possible, raw otherwise; empty/absent bodies skipped. */
function body(re: RegexTester, m: Message | null): boolean {
  if (!m) return false;
  const raw = m.rawContent;
  if (!raw || raw.length === 0) return false;
  return re.test(latin1(m.getContent(false)!));
}

function dnsText(re: RegexTester, m: DNSFlow['request'] | null): boolean {
  return !!m && re.test(latin1(Buffer.from(m.toText(), 'utf8')));
}

/** `side`: all messages, only the client's, or only the server's. */
function bodies(re: RegexTester, f: Flow, side: 'all' | 'client' | 'server'): boolean {
  if (isHttp(f)) {
    if (side !== 'server' && body(re, f.request)) return true;
    if (side !== 'client' && body(re, f.response)) return true;
    if (f.websocket) {
      for (const msg of f.websocket.messages) {
        if (side === 'client' && !msg.fromClient) continue;
        if (side === 'server' && msg.fromClient) continue;
        if (re.test(latin1(msg.content))) return true;
      }
    }
    return false;
  }
  if (isStream(f)) {
    for (const msg of f.messages) {
      if (side === 'client' && !msg.fromClient) continue;
      if (side === 'server' && msg.fromClient) continue;
      if (re.test(latin1(msg.content))) return true;
    }
    return false;
  }
  if (isDns(f)) {
    if (side !== 'server' && dnsText(re, f.request)) return true;
    if (side !== 'client' && dnsText(re, f.response)) return true;
  }
  return false;
}

const ASSET_TYPES = [
  'text/javascript',
  'application/x-javascript',
  'application/javascript',
  'text/css',
  'image/.*',
  'font/.*',
  'application/font.*',
].map((p) => compileFilterRegex(p, { binary: true }));

const regex = (
  name: string,
  describe: string,
  help: string,
  build: (re: RegexTester) => Matcher,
  opts: { binary?: boolean; reFlags?: 'm' | 's' } = {},
): OperatorSpec => ({ name, arg: 'regex', describe, help, ...opts, build: (a) => build(a as RegexTester) });

const unary = (name: string, describe: string, help: string, m: Matcher): OperatorSpec => ({
  name,
  arg: 'none',
  describe,
  help,
  build: () => m,
});

/** Every operator, keyed by name (without `~`). */
export const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map(
  (
    [
      unary('all', 'any flow', 'Match all flows', () => true),
      unary('http', 'is an HTTP flow', 'Match HTTP flows', isHttp),
      unary('websocket', 'is a WebSocket flow', 'Match WebSocket flows', (f) => isHttp(f) && f.websocket !== null),
      unary('tcp', 'is a TCP flow', 'Match TCP flows', (f) => f.type === 'tcp'),
      unary('udp', 'is a UDP flow', 'Match UDP flows', (f) => f.type === 'udp'),
      unary('dns', 'is a DNS flow', 'Match DNS flows', isDns),
      unary('q', 'has no response', 'Match request with no response', (f) => (isHttp(f) || isDns(f)) && !f.response),
      unary('s', 'has a response', 'Match response', (f) => (isHttp(f) || isDns(f)) && !!f.response),
      unary('e', 'has an error', 'Match error', (f) => !!f.error),
      unary('marked', 'is marked', 'Match marked flows', (f) => !!f.marked),
      unary('replay', 'is replayed', 'Match replayed flows', (f) => f.isReplay !== null),
      unary(
        'replayq',
        'is a replayed client request',
        'Match replayed client request',
        (f) => f.isReplay === 'request',
      ),
      unary(
        'replays',
        'is a replayed server response',
        'Match replayed server response',
        (f) => f.isReplay === 'response',
      ),
      unary('a', 'response is an asset', 'Match asset in response: CSS, JavaScript, images, fonts.', (f) => {
        if (!isHttp(f) || !f.response) return false;
        const h = f.response.headers;
        return ASSET_TYPES.some((re) => contentType(re, h));
      }),
      regex('u', 'url', 'URL', (re) => (f) => {
        if (isHttp(f)) return !!f.request && re.test(f.request.prettyUrl);
        if (isDns(f)) return !!f.request && f.request.questions.length > 0 && re.test(f.request.questions[0]!.name);
        return false;
      }),
      regex(
        'd',
        'domain',
        'Domain',
        (re) => (f) => isHttp(f) && (re.test(f.request.host) || re.test(f.request.prettyHost)),
      ),
      regex('m', 'method', 'Method', (re) => (f) => isHttp(f) && re.test(f.request.rawMethod), { binary: true }),
      regex(
        'h',
        'header',
        'Header',
        (re) => (f) =>
          isHttp(f) &&
          (re.test(f.request.headers.toString()) || (!!f.response && re.test(f.response.headers.toString()))),
        { binary: true, reFlags: 'm' },
      ),
      regex(
        'hq',
        'request header',
        'Request header',
        (re) => (f) => isHttp(f) && re.test(f.request.headers.toString()),
        {
          binary: true,
          reFlags: 'm',
        },
      ),
      regex(
        'hs',
        'response header',
        'Response header',
        (re) => (f) => isHttp(f) && !!f.response && re.test(f.response.headers.toString()),
        {
          binary: true,
          reFlags: 'm',
        },
      ),
      regex(
        't',
        'content type',
        'Content-type header',
        (re) => (f) =>
          isHttp(f) && (contentType(re, f.request.headers) || (!!f.response && contentType(re, f.response.headers))),
        { binary: true },
      ),
      regex(
        'tq',
        'request content type',
        'Request Content-Type header',
        (re) => (f) => isHttp(f) && contentType(re, f.request.headers),
        {
          binary: true,
        },
      ),
      regex(
        'ts',
        'response content type',
        'Response Content-Type header',
        (re) => (f) => isHttp(f) && !!f.response && contentType(re, f.response.headers),
        { binary: true },
      ),
      regex('b', 'body', 'Body', (re) => (f) => bodies(re, f, 'all'), { binary: true, reFlags: 's' }),
      regex('bq', 'request body', 'Request body', (re) => (f) => bodies(re, f, 'client'), {
        binary: true,
        reFlags: 's',
      }),
      regex('bs', 'response body', 'Response body', (re) => (f) => bodies(re, f, 'server'), {
        binary: true,
        reFlags: 's',
      }),
      regex('src', 'source address', 'Match source address', (re) => (f) => {
        const p = f.clientConn?.peername;
        return !!p && re.test(`${p[0]}:${p[1]}`);
      }),
      regex('dst', 'destination address', 'Match destination address', (re) => (f) => {
        const a = f.serverConn?.address;
        return !!a && re.test(`${a[0]}:${a[1]}`);
      }),
      regex(
        'meta',
        'metadata',
        'Flow metadata',
        (re) => (f) =>
          re.test(
            Object.entries(f.metadata)
              .map(([k, v]) => `${k}: ${pyStr(v)}`)
              .join('\n'),
          ),
        { reFlags: 'm' },
      ),
      regex('marker', 'marker', 'Match marked flows with specified marker', (re) => (f) => re.test(f.marked)),
      regex('comment', 'comment', 'Flow comment', (re) => (f) => re.test(f.comment), { reFlags: 'm' }),
      {
        name: 'c',
        arg: 'int',
        describe: 'response code is',
        help: 'HTTP response code',
        build: (n) => (f) => isHttp(f) && !!f.response && f.response.statusCode === n,
      },
    ] satisfies OperatorSpec[]
  ).map((op): [string, OperatorSpec] => [op.name, op]),
);

/** `[syntax, help]` pairs for every operator and the combinators, sorted as mitmproxy shows them. */
export const FILTER_HELP: ReadonlyArray<readonly [string, string]> = [
  ...Array.from(
    OPERATORS.values(),
    (op) => [`~${op.name}${op.arg === 'regex' ? ' regex' : op.arg === 'int' ? ' int' : ''}`, op.help] as const,
  ).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
  ['!', 'unary not'],
  ['&', 'and'],
  ['|', 'or'],
  ['(...)', 'grouping'],
];
