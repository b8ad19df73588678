/**
 * Flow actions of the API. Those another addon provides (resume, kill, revert, replay, export)
 * are called by command name through the command manager, never by importing the addon: a
 * build without it answers 501 naming what to load. Editing follows mitmweb's `PUT /flows/:id`.
 */
import type { CommandManager, Flow, HTTPFlow } from '@mitmts/sdk';
import { HTTPHeaders } from '@mitmts/sdk';
import { HttpError } from './http-util.js';

/** Commands the API uses and who provides them. */
export const PROVIDERS: Readonly<Record<string, string>> = {
  'flow.resume': 'the core commands addon (@mitmts/addon-corecommands)',
  'flow.kill': 'the core commands addon (@mitmts/addon-corecommands)',
  'flow.revert': 'the core commands addon (@mitmts/addon-corecommands)',
  'flow.mark': 'the core commands addon (@mitmts/addon-corecommands)',
  'replay.client': 'the client replay addon (@mitmts/addon-clientplayback)',
  export: 'the export addon (@mitmts/addon-export)',
};

/**
 * Call a command on one flow: arguments of type `flow`/`flows` get the flow, the others take
 * `extra` in order. 501 if no addon provides the command.
 */
export async function callOnFlow(
  commands: CommandManager,
  name: string,
  flow: Flow,
  ...extra: unknown[]
): Promise<unknown> {
  if (!commands.has(name)) {
    throw new HttpError(
      501,
      `This build has no ${name} command: load ${PROVIDERS[name] ?? 'the addon that provides it'}.`,
    );
  }
  const rest = [...extra];
  const args = commands
    .get(name)
    .args.map((a) => (a.type === 'flow' ? flow : a.type === 'flows' ? [flow] : rest.shift()));
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  try {
    return await commands.call(name, ...args);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function headerPairs(v: unknown, where: string): HTTPHeaders {
  if (
    !Array.isArray(v) ||
    !v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')
  ) {
    throw new HttpError(400, `${where} must be a list of [name, value] pairs of strings.`);
  }
  return new HTTPHeaders(v as Array<[string, string]>);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new HttpError(400, `${where} must be a string, got ${JSON.stringify(v)}.`);
  return String(v);
}

function int(v: unknown, where: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(400, `${where} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}.`);
  }
  return n;
}

const REQUEST_FIELDS = [
  'method',
  'scheme',
  'host',
  'port',
  'path',
  'url',
  'http_version',
  'headers',
  'trailers',
  'content',
];
const RESPONSE_FIELDS = ['status_code', 'code', 'reason', 'msg', 'http_version', 'headers', 'trailers', 'content'];

/** Check an edit before touching the flow, so a bad field changes nothing. */
function checkFields(part: Json, allowed: readonly string[], name: string): void {
  for (const k of Object.keys(part)) {
    if (!allowed.includes(k))
      throw new HttpError(400, `Unknown update ${name}.${k}: editable fields are ${allowed.join(', ')}.`);
  }
}

/**
 * Apply mitmweb's edit payload: `{request: {method, url, headers, content, ...}, response:
 * {status_code, reason, headers, content, ...}, marked, comment}`. A backup is taken first, so
 * `revert` undoes the edit.
 */
export function applyEdit(flow: Flow, body: unknown): void {
  if (!isObject(body))
    throw new HttpError(400, 'The edit must be a JSON object, e.g. {"request": {"method": "POST"}}.');
  for (const k of Object.keys(body)) {
    if (!['request', 'response', 'marked', 'comment'].includes(k))
      throw new HttpError(400, `Unknown update ${k}: use request, response, marked or comment.`);
  }
  const http = flow.type === 'http' ? (flow as HTTPFlow) : null;
  if ((body.request !== undefined || body.response !== undefined) && !http)
    throw new HttpError(400, `A ${flow.type} flow has no request or response to edit.`);
  if (body.request !== undefined && !isObject(body.request)) throw new HttpError(400, 'request must be an object.');
  if (body.response !== undefined && !isObject(body.response)) throw new HttpError(400, 'response must be an object.');
  const req = body.request as Json | undefined;
  const resp = body.response as Json | undefined;
  if (req) checkFields(req, REQUEST_FIELDS, 'request');
  if (resp) {
    checkFields(resp, RESPONSE_FIELDS, 'response');
    if (!http!.response) throw new HttpError(400, 'This flow has no response yet to edit.');
  }
  // Parse everything first: a bad value must leave the flow untouched.
  const reqHeaders = req?.headers !== undefined ? headerPairs(req.headers, 'request.headers') : null;
  const respHeaders = resp?.headers !== undefined ? headerPairs(resp.headers, 'response.headers') : null;
  const port = req?.port !== undefined ? int(req.port, 'request.port', 0, 65535) : null;
  const statusRaw = resp?.status_code ?? resp?.code;
  const status = statusRaw !== undefined ? int(statusRaw, 'response.status_code', 100, 999) : null;
  if (req?.url !== undefined) {
    const u = str(req.url, 'request.url');
    if (!/^https?:\/\/[^/]/i.test(u))
      throw new HttpError(400, `request.url must be an absolute http(s) URL, got ${JSON.stringify(u)}.`);
  }
  flow.backup();
  if (req && http) {
    const r = http.request;
    if (req.url !== undefined) r.url = str(req.url, 'request.url');
    for (const k of ['method', 'scheme', 'host', 'path'] as const)
      if (req[k] !== undefined) r[k] = str(req[k], `request.${k}`);
    if (req.http_version !== undefined) r.httpVersion = str(req.http_version, 'request.http_version');
    if (port !== null) r.port = port;
    if (reqHeaders) r.headers.fields = reqHeaders.fields;
    if (req.trailers !== undefined)
      r.trailers = req.trailers === null ? null : headerPairs(req.trailers, 'request.trailers');
    if (req.content !== undefined) r.text = str(req.content, 'request.content');
  }
  if (resp && http?.response) {
    const r = http.response;
    if (status !== null) r.statusCode = status;
    const reason = resp.reason ?? resp.msg;
    if (reason !== undefined) r.reason = str(reason, 'response.reason');
    if (resp.http_version !== undefined) r.httpVersion = str(resp.http_version, 'response.http_version');
    if (respHeaders) r.headers.fields = respHeaders.fields;
    if (resp.trailers !== undefined)
      r.trailers = resp.trailers === null ? null : headerPairs(resp.trailers, 'response.trailers');
    if (resp.content !== undefined) r.text = str(resp.content, 'response.content');
  }
  if (body.marked !== undefined)
    flow.marked = typeof body.marked === 'boolean' ? (body.marked ? ':default:' : '') : str(body.marked, 'marked');
  if (body.comment !== undefined) flow.comment = str(body.comment, 'comment');
}
