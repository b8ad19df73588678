/**
 * mitmdump's output lines, character for character (see mitmproxy's `dumper.py`): the request
 * line, the response line, headers, bodies, errors, and the TCP, UDP, WebSocket and DNS lines.
 * Pure: it returns text; the addon decides where it goes.
 */
import {
  DNSOpCode,
  dnsTypeName,
  RESPONSES,
  WebSocketOpcode,
  type DNSFlow,
  type Flow,
  type HTTPHeaders,
  type HTTPFlow,
  type Message,
  type TCPFlow,
  type UDPFlow,
} from '@mitmts/sdk';
import { prettify } from './contentviews.js';
import { bytesToEscaped, cutAfterNLines, escapeControl, formatAddress, indent, prettySize } from './human.js';
import type { Style, Styler } from './style.js';

export interface FormatSettings {
  /** `flow_detail`, 1 to 4 (0 prints nothing and never gets here). */
  readonly detail: number;
  /** `showhost`: URLs from the Host header. */
  readonly showhost: boolean;
  /** `dumper_default_contentview`. */
  readonly contentView: string;
  /** `content_view_lines_cutoff`: body lines shown at detail 3. */
  readonly linesCutoff: number;
  /** URLs longer than this are cut at detail 1 (mitmproxy: terminal width - 25, at least 50). */
  readonly urlWidth: number;
  readonly style: Styler;
}

const WS_CLOSE_REASONS: Record<number, string> = {
  1000: 'NORMAL_CLOSURE',
  1001: 'GOING_AWAY',
  1002: 'PROTOCOL_ERROR',
  1003: 'UNSUPPORTED_DATA',
  1005: 'NO_STATUS_RCVD',
  1006: 'ABNORMAL_CLOSURE',
  1007: 'INVALID_FRAME_PAYLOAD_DATA',
  1008: 'POLICY_VIOLATION',
  1009: 'MESSAGE_TOO_BIG',
  1010: 'MANDATORY_EXT',
  1011: 'INTERNAL_ERROR',
  1012: 'SERVICE_RESTART',
  1013: 'TRY_AGAIN_LATER',
  1015: 'TLS_HANDSHAKE_FAILED',
};

/** Collects the lines of one event; `echo` is mitmproxy's `Dumper.echo`. */
export class Lines {
  readonly out: string[] = [];
  constructor(readonly s: FormatSettings) {}

  style(text: string, style?: Style): string {
    return style ? this.s.style(text, style) : text;
  }

  echo(text: string, ident = 0, style?: Style): void {
    const t = ident ? indent(ident, text) : text;
    this.out.push(style ? this.s.style(t, style) : t);
  }

  toString(): string {
    return this.out.length ? `${this.out.join('\n')}\n` : '';
  }
}

function clientLabel(l: Lines, flow: Flow): string {
  if (flow.isReplay === 'request') return l.style('[replay]', { fg: 'yellow', bold: true });
  if (flow.clientConn.peername) return escapeControl(formatAddress(flow.clientConn.peername));
  return '';
}

function echoHeaders(l: Lines, headers: HTTPHeaders): void {
  for (const [k, v] of headers.fields) l.echo(`${l.style(bytesToEscaped(k), { fg: 'blue' })}: ${bytesToEscaped(v)}`, 4);
}

function echoTrailers(l: Lines, trailers: HTTPHeaders | null): void {
  if (!trailers || trailers.fields.length === 0) return;
  l.echo('--- HTTP Trailers', 4, { fg: 'magenta' });
  echoHeaders(l, trailers);
}

/** A body (or TCP/UDP/WebSocket message content) in the chosen content view. */
export function echoMessage(l: Lines, content: Buffer | null, http: Message | null): void {
  const s = l.s;
  const pretty = prettify(content, http, s.contentView);
  const shown = s.detail === 3 ? cutAfterNLines(pretty.text, s.linesCutoff) : pretty.text;
  if (shown) {
    l.echo('');
    l.echo(shown, 4, pretty.error ? { fg: 'red' } : undefined);
  }
  if (shown.length < pretty.text.length) l.echo('(cut off)', 4, { dim: true });
  if (s.detail >= 2) l.echo('');
}

export function requestLine(l: Lines, flow: HTTPFlow): void {
  const req = flow.request;
  const client = clientLabel(l, flow);
  const method = req.method + ('h2-pushed-stream' in flow.metadata ? ' PUSH_PROMISE' : '');
  const methodColor = method.toUpperCase() === 'GET' ? 'green' : method.toUpperCase() === 'DELETE' ? 'red' : 'magenta';
  let url = l.s.showhost ? req.prettyUrl : req.url;
  if (l.s.detail === 1 && url.length > l.s.urlWidth) url = `${url.slice(0, l.s.urlWidth)}…`;
  const respVersion = flow.response ? flow.response.httpVersion : 'HTTP/1.1';
  const version = !(req.isHttp10 || req.isHttp11) || req.httpVersion !== respVersion ? ` ${req.httpVersion}` : '';
  l.echo(
    `${client}: ${l.style(escapeControl(method), { fg: methodColor, bold: true })} ${l.style(escapeControl(url), { bold: true })}${version}`,
  );
}

export function responseLine(l: Lines, flow: HTTPFlow): void {
  const resp = flow.response!;
  const replayText = flow.isReplay === 'response' ? '[replay]' : '';
  const replay = replayText ? l.style(replayText, { fg: 'yellow', bold: true }) : '';
  const code = resp.statusCode;
  const color =
    code >= 200 && code < 300
      ? 'green'
      : code >= 300 && code < 400
        ? 'magenta'
        : code >= 400 && code < 600
          ? 'red'
          : null;
  const codeText = l.style(String(code), { fg: color, bold: true, blink: code === 418 });
  const reasonText = resp.isHttp2 || resp.isHttp3 ? (RESPONSES[code] ?? '') : resp.reason;
  const reason = l.style(escapeControl(reasonText), { fg: color, bold: true });
  const raw = resp.rawContent;
  const size = l.style(raw === null ? '(content missing)' : prettySize(raw.length), { bold: true });
  const version =
    !(resp.isHttp10 || resp.isHttp11) || flow.request.httpVersion !== resp.httpVersion ? `${resp.httpVersion} ` : '';
  let arrows = l.style(' <<', { bold: true });
  if (l.s.detail === 1) {
    // Aligns the status code under the method of the request line.
    const pad = Math.max(0, formatAddress(flow.clientConn.peername).length - (2 + version.length + replayText.length));
    arrows = ' '.repeat(pad) + arrows;
  }
  l.echo(`${replay}${arrows} ${version}${codeText} ${reason} ${size}`);
}

/** A finished (or failed) HTTP flow: `response` and `error`. */
export function httpFlow(l: Lines, f: HTTPFlow): void {
  const d = l.s.detail;
  if (f.request) {
    requestLine(l, f);
    if (d >= 2) echoHeaders(l, f.request.headers);
    if (d >= 3) echoMessage(l, f.request.rawContent, f.request);
    if (d >= 2) echoTrailers(l, f.request.trailers);
  }
  if (f.response) {
    responseLine(l, f);
    if (d >= 2) echoHeaders(l, f.response.headers);
    if (d >= 3) echoMessage(l, f.response.rawContent, f.response);
    if (d >= 2) echoTrailers(l, f.response.trailers);
  }
  if (f.error) l.echo(` << ${escapeControl(f.error.msg)}`, 0, { fg: 'red', bold: true });
}

export function websocketMessage(l: Lines, f: HTTPFlow): void {
  const m = f.websocket?.messages.at(-1);
  if (!m) return;
  const dir = m.fromClient ? '->' : '<-';
  const type = (WebSocketOpcode[m.type] ?? String(m.type)).toLowerCase();
  l.echo(
    `${formatAddress(f.clientConn.peername)} ${dir} WebSocket ${type} message ${dir} ${formatAddress(f.serverConn.address)}${f.request.path}`,
  );
  if (l.s.detail >= 3) echoMessage(l, m.content, null);
}

export function websocketEnd(l: Lines, f: HTTPFlow): void {
  const ws = f.websocket;
  if (!ws) return;
  const code = ws.closeCode;
  if (code === 1000 || code === 1001 || code === 1005) {
    l.echo(
      `WebSocket connection closed by ${ws.closedByClient ? 'client' : 'server'}: ${code} ${ws.closeReason ?? ''}`,
    );
    return;
  }
  let why =
    code !== null && WS_CLOSE_REASONS[code] ? WS_CLOSE_REASONS[code] : `UNKNOWN_ERROR=${code === null ? 'None' : code}`;
  if (ws.closeReason) why += ` (reason: ${ws.closeReason})`;
  l.echo(`Error in WebSocket connection to ${formatAddress(f.serverConn.address)}: WebSocket Error: ${why}`, 0, {
    fg: 'red',
  });
}

export function streamMessage(l: Lines, f: TCPFlow | UDPFlow): void {
  const m = f.messages.at(-1);
  if (!m) return;
  const dir = m.fromClient ? '->' : '<-';
  l.echo(`${formatAddress(f.clientConn.peername)} ${dir} ${f.type} ${dir} ${formatAddress(f.serverConn.address)}`);
  if (l.s.detail >= 3) echoMessage(l, m.content, null);
}

export function streamError(l: Lines, f: TCPFlow | UDPFlow): void {
  l.echo(
    `Error in ${f.type.toUpperCase()} connection to ${formatAddress(f.serverConn.address)}: ${f.error?.msg ?? ''}`,
    0,
    { fg: 'red' },
  );
}

const OPCODE_NAMES = new Map<number, string>(Object.entries(DNSOpCode).map(([k, v]) => [v, k]));

function dnsQuery(l: Lines, f: DNSFlow): void {
  const q = f.request.questions[0];
  const opcode = OPCODE_NAMES.get(f.request.opCode) ?? `OPCODE(${f.request.opCode})`;
  const type = q ? dnsTypeName(q.type) : '';
  const color = type === 'A' ? 'green' : type === 'AAAA' ? 'magenta' : 'red';
  l.echo(
    `${clientLabel(l, f)}: ${l.style(`DNS ${opcode} (${type})`, { fg: color })} ${l.style(q?.name ?? '', { bold: true })}`,
  );
}

const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

export function dnsResponse(l: Lines, f: DNSFlow): void {
  const resp = f.response;
  if (!resp) return;
  dnsQuery(l, f);
  const answers = resp.answers.length
    ? resp.answers.map((a) => l.style(String(a), { fg: 'bright_blue' })).join(', ')
    : l.style(RCODE_NAMES[resp.responseCode] ?? `RCODE(${resp.responseCode})`, { fg: 'red' });
  l.echo(`${l.style(' <<', { bold: true })} ${answers}`);
}

export function dnsError(l: Lines, f: DNSFlow): void {
  dnsQuery(l, f);
  l.echo(` << ${escapeControl(f.error?.msg ?? '')}`, 0, { fg: 'red', bold: true });
}
