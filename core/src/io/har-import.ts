/**
 * HAR import (shared/reference/flow-format.md §4): each `log.entries[]` item becomes an HTTP flow.
 * Headers may be `{name, value}` objects (browsers, Charles, Fiddler, Insomnia) or
 * `[name, value]` pairs (Slack). Bodies end up decoded (no Content-Encoding), as mitmproxy
 * stores them after import.
 *
 * One deliberate difference: HAR `time` is in milliseconds; mitmproxy adds it to the start as
 * seconds, mitmts converts it (`timestamp_end = start + time / 1000`).
 */
import { Client, Server } from '../flow/connection.js';
import { inferContentEncoding } from '../flow/content-type.js';
import { encodeText } from '../flow/charset.js';
import { Headers } from '../flow/headers.js';
import { HTTPFlow } from '../flow/http-flow.js';
import { Request } from '../flow/request.js';
import { Response } from '../flow/response.js';
import { WebSocketData, WebSocketMessage, WebSocketOpcode } from '../flow/websocket.js';
import type { FlowState } from '../flow/state.js';
import { RESPONSES } from '../flow/status-codes.js';
import { FlowReadError, FlowReadErrorCode } from './errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

class HarError extends Error {}

function need(cond: unknown, what: string): asserts cond {
  if (!cond) throw new HarError(what);
}

function headers(list: Json, where: string): Headers {
  need(Array.isArray(list), `${where} is not a list`);
  const fields: Array<[string, string]> = [];
  list.forEach((h: Json, i: number) => {
    let name: unknown;
    let value: unknown;
    if (Array.isArray(h)) [name, value] = h;
    else if (h !== null && typeof h === 'object') ({ name, value } = h);
    need(
      typeof name === 'string' && typeof value === 'string',
      `${where}[${i}] is not a {name, value} object or a [name, value] pair of strings`,
    );
    fields.push([name, value]);
  });
  return new Headers(fields.map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')]));
}

/** `datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()`, keeping microseconds. */
export function parseIsoTimestamp(s: string): number {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?$/.exec(s);
  if (m === null) throw new HarError(`startedDateTime ${JSON.stringify(s)} is not an ISO 8601 date and time`);
  const [, y, mo, d, h, mi, sec, frac, tz] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0)] as const;
  const fraction = frac === undefined ? 0 : Number(`0.${frac}`);
  if (tz === undefined) return new Date(...fields).getTime() / 1000 + fraction; // naive: local time, as Python
  let offset = 0;
  if (tz !== 'Z') {
    const digits = tz.slice(1).replace(/:/g, '');
    offset =
      (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60 + Number(digits.slice(4, 6) || 0)) *
      (tz[0] === '-' ? -1 : 1);
  }
  return Date.UTC(...fields) / 1000 - offset + fraction;
}

function httpVersion(v: unknown): string {
  if (v === 'http/2.0' || v === 'HTTP/2') return 'HTTP/2';
  if (v === 'HTTP/3') return 'HTTP/3';
  return 'HTTP/1.1';
}

function responseBody(content: Json, hdrs: Headers): Buffer {
  const text: unknown = content?.text ?? '';
  const encoding: unknown = content?.encoding;
  if (encoding === 'base64') {
    need(typeof text === 'string', 'response.content.text is not a string');
    return Buffer.from(text, 'base64');
  }
  need(typeof text === 'string', 'response.content.text is not a string');
  const charset =
    typeof encoding === 'string' && encoding ? encoding : inferContentEncoding(hdrs.get('content-type') ?? '');
  try {
    return encodeText(text, charset);
  } catch {
    return Buffer.from(text, 'utf8');
  }
}

function entryToFlow(e: Json, i: number): HTTPFlow {
  const where = `log.entries[${i}]`;
  need(e !== null && typeof e === 'object', `${where} is not an object`);
  const req = e.request;
  const res = e.response;
  need(req && typeof req === 'object', `${where}.request is missing`);
  need(res && typeof res === 'object', `${where}.response is missing`);
  need(typeof e.startedDateTime === 'string', `${where}.startedDateTime is missing`);
  need(typeof e.time === 'number', `${where}.time is not a number`);
  need(typeof req.method === 'string' && typeof req.url === 'string', `${where}.request needs method and url strings`);
  need(typeof res.status === 'number', `${where}.response.status is not a number`);

  const start = parseIsoTimestamp(e.startedDateTime);
  const end = start + e.time / 1000;
  const port = req.url.startsWith('http://') ? 80 : 443;
  const client = new Client({ peername: ['127.0.0.1', 0], sockname: ['127.0.0.1', 0], timestampStart: start });
  client.timestampEnd = end;
  const server = new Server({
    address: typeof e.serverIPAddress === 'string' && e.serverIPAddress ? [e.serverIPAddress, port] : null,
  });
  const flow = new HTTPFlow(client, server);

  const postText: unknown = req.postData?.text ?? '';
  need(typeof postText === 'string', `${where}.request.postData.text is not a string`);
  const request = Request.make(req.method, req.url, postText, headers(req.headers, `${where}.request.headers`));
  request.timestampStart = start;
  request.timestampEnd = end;
  request.httpVersion = httpVersion(req.httpVersion);

  const respHeaders = headers(res.headers, `${where}.response.headers`);
  const response = new Response({
    httpVersion: httpVersion(res.httpVersion),
    statusCode: res.status,
    reason: RESPONSES[res.status] ?? '',
    headers: respHeaders,
    content: null,
    timestampStart: start,
    timestampEnd: end,
  });
  // Encode as the headers say (as mitmproxy's set_content), then store decoded.
  response.content = responseBody(res.content, respHeaders);
  request.decode(false);
  response.decode(false);

  flow.request = request;
  flow.response = response;
  flow.timestampCreated = start;
  if (e._webSocketMessages !== undefined)
    flow.websocket = webSocketData(e._webSocketMessages, `${where}._webSocketMessages`);
  return flow;
}

/**
 * `_webSocketMessages` as Chrome DevTools and mitmproxy write them: `{type: "send" | "receive",
 * time (seconds since the epoch), opcode, data}`; text (opcode 1) as is, binary (opcode 2) as
 * base64. A close frame (opcode 8, as some tools add, with `code`/`reason`) records the close;
 * other control frames carry nothing the flow keeps and are skipped.
 */
function webSocketData(list: Json, where: string): WebSocketData {
  need(Array.isArray(list), `${where} is not a list`);
  const ws = new WebSocketData();
  list.forEach((m: Json, i: number) => {
    const at = `${where}[${i}]`;
    need(m !== null && typeof m === 'object', `${at} is not an object`);
    need(m.type === 'send' || m.type === 'receive', `${at}.type must be "send" or "receive"`);
    need(typeof m.time === 'number' && typeof m.opcode === 'number', `${at} needs a number time and opcode`);
    const fromClient = m.type === 'send';
    if (m.opcode === WebSocketOpcode.CLOSE) {
      if (ws.closeCode === null && typeof m.code === 'number') {
        ws.closeCode = m.code;
        ws.closeReason = typeof m.reason === 'string' ? m.reason : '';
        ws.closedByClient = fromClient;
        ws.timestampEnd = m.time;
      }
      return;
    }
    if (m.opcode !== WebSocketOpcode.TEXT && m.opcode !== WebSocketOpcode.BINARY) return;
    const data: unknown = m.data ?? '';
    need(typeof data === 'string', `${at}.data is not a string`);
    const content = m.opcode === WebSocketOpcode.TEXT ? Buffer.from(data, 'utf8') : Buffer.from(data, 'base64');
    ws.messages.push(new WebSocketMessage(m.opcode, fromClient, content, m.time));
  });
  return ws;
}

/** Parse a HAR document (bytes of JSON, optionally with a BOM) into HTTP flows. */
export function harToFlows(doc: Buffer | string): HTTPFlow[] {
  let json: Json;
  try {
    const text = typeof doc === 'string' ? doc : doc.toString('utf8');
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    need(json && typeof json === 'object' && json.log && typeof json.log === 'object', 'there is no "log" object');
    need(Array.isArray(json.log.entries), 'log.entries is not a list');
    return json.log.entries.map(entryToFlow);
  } catch (e) {
    throw new FlowReadError(
      FlowReadErrorCode.HAR,
      `Unable to read HAR file: ${(e as Error).message}. Please provide a valid HAR file (HTTP Archive 1.2 JSON with log.entries).`,
      { cause: e },
    );
  }
}

/** Format 21 states of the HTTP flows in a HAR document. */
export function* harToFlowStates(doc: Buffer): Generator<FlowState> {
  for (const f of harToFlows(doc)) yield f.getState();
}
