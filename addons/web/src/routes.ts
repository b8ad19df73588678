/**
 * The REST API: mitmweb's routes (`/flows`, `/flows/:id`, `/flows/:id/:message/content.data`,
 * `/commands`, `/options`, `/events`, `/state`, ...) plus paging parameters on `/flows` and
 * exports. Each route is one entry of {@link ROUTES}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Flow, HTTPFlow, Kernel, Message, OptionInfo } from '@mitmts/sdk';
import {
  encodeFlow,
  FILTER_HELP,
  FlowReader,
  flowsToHar,
  flowToHarEntry,
  parseFilter,
  serializeHar,
  TYPE_DESCRIPTIONS,
} from '@mitmts/sdk';
import { applyEdit, callOnFlow } from './actions.js';
import { SORT_COLUMNS, type FlowBackend, type FlowQuery, type SortColumn } from './backend.js';
import type { EventLog } from './events.js';
import { flowJson, streamMessages } from './flow-json.js';
import { HttpError, readBody, readJson, sendBytes, sendJson, sendText, streamOut, toJson } from './http-util.js';
import type { WebCommand, WebOption, WebState } from './protocol.js';
import type { UpdateHub } from './updates.js';

export interface ApiContext {
  readonly kernel: Kernel;
  /** Changes when a store is plugged in or out. */
  backend: FlowBackend;
  readonly hub: UpdateHub;
  readonly events: EventLog;
  state(): WebState;
}

type Handler = (
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  params: string[],
  url: URL,
) => Promise<void> | void;

/** What the readfile addon offers: a read flow loaded into the addon chain (its hooks fired). */
interface FlowLoader {
  loadFlow(flow: Flow): Promise<void>;
}

/** Biggest upload: a `.mitm` file for `POST /flows/dump`. */
const MAX_DUMP = 512 << 20;
/** Biggest body upload (`POST .../content.data`). */
const MAX_CONTENT = 64 << 20;

/** Export formats the export addon renders (`export` command); `har` is built here. */
export const EXPORT_FORMATS = [
  'curl',
  'httpie',
  'raw',
  'raw_request',
  'raw_response',
  'fetch',
  'python-requests',
  'har',
] as const;

async function flowOf(ctx: ApiContext, id: string): Promise<Flow> {
  const f = await ctx.backend.get(id);
  if (!f) throw new HttpError(404, `No flow with id ${id}.`);
  return f;
}

function messageOf(f: Flow, part: string): Message {
  if (f.type !== 'http') throw new HttpError(400, `A ${f.type} flow has no ${part}.`);
  const m = part === 'request' ? (f as HTTPFlow).request : (f as HTTPFlow).response;
  if (!m) throw new HttpError(404, `Flow ${f.id} has no response yet.`);
  return m;
}

/** A filter from a query string parameter; 400 with the filter's own message if it does not parse. */
function queryFilter(url: URL): FlowQuery['filter'] {
  const text = url.searchParams.get('filter')?.trim();
  if (!text) return null;
  try {
    return { text, match: parseFilter(text) };
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

/** Every flow the `filter` parameter selects, the store's included, in arrival order. */
function matching(ctx: ApiContext, url: URL): AsyncIterable<Flow> {
  return ctx.backend.flows(queryFilter(url));
}

/** `pieces` as one JSON array, element by element. */
async function* jsonArray(pieces: AsyncIterable<string>): AsyncIterable<string> {
  let sep = '[';
  for await (const p of pieces) {
    yield sep + p;
    sep = ',';
  }
  yield sep === '[' ? '[]' : ']';
}

async function* flowJsons(flows: AsyncIterable<Flow>): AsyncIterable<string> {
  for await (const f of flows) yield toJson(flowJson(f));
}

async function* mitmRecords(flows: AsyncIterable<Flow>): AsyncIterable<Buffer> {
  for await (const f of flows) yield encodeFlow(f);
}

/** A HAR document of the HTTP flows among `flows`, entry by entry (the same document {@link flowsToHar} builds). */
async function* harDocument(flows: AsyncIterable<Flow>): AsyncIterable<string> {
  const empty = JSON.stringify(flowsToHar([]));
  const end = empty.lastIndexOf('[]') + 1;
  yield empty.slice(0, end);
  const serversSeen = new Set<string>();
  let sep = '';
  for await (const f of flows) {
    if (f.type !== 'http') continue;
    yield sep + JSON.stringify(flowToHarEntry(f as HTTPFlow, serversSeen));
    sep = ',';
  }
  yield empty.slice(end);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Flows changed through the API: let every addon (and the view) hear of it. */
async function changed(ctx: ApiContext, flows: Flow[]): Promise<void> {
  await ctx.kernel.trigger('update', flows);
}

function addFlow(ctx: ApiContext, f: Flow): void {
  ctx.kernel.flows.add(f);
  ctx.hub.touched(f);
}

function optionJson(o: OptionInfo): WebOption {
  return {
    type: TYPE_DESCRIPTIONS[o.type],
    default: o.default,
    value: o.value,
    help: o.help,
    ...(o.choices ? { choices: o.choices } : {}),
  };
}

export function optionsJson(kernel: Kernel, names?: ReadonlySet<string>): Record<string, WebOption> {
  const out: Record<string, WebOption> = {};
  for (const o of kernel.options.list()) if (!names || names.has(o.name)) out[o.name] = optionJson(o);
  return out;
}

/** A command's result as JSON: flows as their flow JSON. */
function resultJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(resultJson);
  if (v && typeof v === 'object' && typeof (v as Flow).getState === 'function' && typeof (v as Flow).id === 'string')
    return flowJson(v as Flow);
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return v;
}

const flowList: Handler = async (ctx, _req, res, _p, url) => {
  const q = url.searchParams;
  if (!q.has('limit') && !q.has('sort')) {
    await streamOut(res, JSON_TYPE, jsonArray(flowJsons(matching(ctx, url))));
    return;
  }
  const column = (q.get('sort') ?? 'seq') as SortColumn;
  if (!SORT_COLUMNS.includes(column))
    throw new HttpError(400, `Unknown sort column ${JSON.stringify(column)}: use one of ${SORT_COLUMNS.join(', ')}.`);
  const query: FlowQuery = {
    filter: queryFilter(url),
    sort: { column, desc: q.get('desc') === 'true' || q.get('desc') === '1' },
  };
  const limit = Math.min(10_000, Math.max(0, Number(q.get('limit') ?? 100) || 0));
  const offset = Math.max(0, Number(q.get('offset') ?? 0) || 0);
  ctx.backend.sync();
  const [count, rows] = await Promise.all([ctx.backend.count(query), ctx.backend.slice(query, offset, limit)]);
  sendJson(res, 200, { count, offset, flows: rows.map((r) => flowJson(r.flow)) });
};

const dump: Handler = (ctx, _req, res, _p, url) =>
  streamOut(res, 'application/octet-stream', mitmRecords(matching(ctx, url)), 'flows.mitm');

const upload: Handler = async (ctx, req, res) => {
  const body = await readBody(req, MAX_DUMP);
  let flows: Flow[];
  try {
    flows = [...new FlowReader(body, { name: 'the uploaded file' })];
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  clearAll(ctx);
  // As mitmweb's upload (the master's load_flow): each flow goes through its hooks, as if it
  // happened now, when the readfile addon (which does that for -r) is loaded.
  const reader = ctx.kernel.get<Partial<FlowLoader>>('readfile');
  for (const f of flows) {
    if (typeof reader?.loadFlow === 'function') await reader.loadFlow(f);
    addFlow(ctx, f);
  }
  sendJson(res, 200, { loaded: flows.length });
};

const allIntercepted =
  (command: string): Handler =>
  async (ctx, _req, res) => {
    const flows = [...ctx.backend.all()].filter((f) => f.intercepted);
    for (const f of flows) await callOnFlow(ctx.kernel.commands, command, f);
    sendJson(res, 200, { count: flows.length });
  };

const flowAction: Handler = async (ctx, _req, res, [id, action]) => {
  const f = await flowOf(ctx, id!);
  switch (action) {
    case 'resume':
      await callOnFlow(ctx.kernel.commands, 'flow.resume', f);
      break;
    case 'kill':
      if (!f.killable) throw new HttpError(409, `Flow ${f.id} cannot be killed: it is not live or was killed already.`);
      await callOnFlow(ctx.kernel.commands, 'flow.kill', f);
      break;
    case 'revert':
      await callOnFlow(ctx.kernel.commands, 'flow.revert', f);
      break;
    case 'replay':
      await callOnFlow(ctx.kernel.commands, 'replay.client', f);
      break;
    case 'duplicate': {
      const copy = f.copy();
      addFlow(ctx, copy);
      sendJson(res, 200, { id: copy.id });
      return;
    }
  }
  await changed(ctx, [f]);
  sendJson(res, 200, flowJson(f));
};

const flowGet: Handler = async (ctx, _req, res, [id]) => sendJson(res, 200, flowJson(await flowOf(ctx, id!)));

const flowPut: Handler = async (ctx, req, res, [id]) => {
  const f = await flowOf(ctx, id!);
  applyEdit(f, await readJson(req));
  await changed(ctx, [f]);
  sendJson(res, 200, flowJson(f));
};

const flowDelete: Handler = async (ctx, _req, res, [id]) => {
  const f = await flowOf(ctx, id!);
  checkDeletable(ctx);
  if (f.killable) {
    if (ctx.kernel.commands.has('flow.kill')) await callOnFlow(ctx.kernel.commands, 'flow.kill', f);
    else f.kill();
  }
  ctx.backend.remove(f.id);
  ctx.hub.deleted(f);
  sendJson(res, 200, { removed: f.id });
};

const contentGet: Handler = async (ctx, _req, res, [id, part]) => {
  const f = await flowOf(ctx, id!);
  if (part === 'messages') {
    const list = streamMessages(f, 0, Infinity);
    if (list === null) throw new HttpError(400, `Flow ${f.id} has no messages.`);
    const raw =
      f.type === 'http'
        ? (f as HTTPFlow).websocket!.messages
        : (f as unknown as { messages: Array<{ content: Buffer }> }).messages;
    sendBytes(res, Buffer.concat(raw.map((m) => m.content)), `${f.id}-messages.bin`);
    return;
  }
  const m = messageOf(f, part!);
  let content: Buffer | null;
  try {
    content = m.getContent(false);
  } catch {
    content = m.rawContent;
  }
  if (content === null) throw new HttpError(404, `The ${part} body of flow ${f.id} was not recorded (streamed).`);
  sendBytes(res, content, `${f.id}-${part}.bin`);
};

const contentPost: Handler = async (ctx, req, res, [id, part]) => {
  const f = await flowOf(ctx, id!);
  if (part === 'messages') throw new HttpError(400, 'Messages cannot be replaced by an upload.');
  const m = messageOf(f, part!);
  const body = await readBody(req, MAX_CONTENT);
  f.backup();
  m.content = body;
  await changed(ctx, [f]);
  sendJson(res, 200, flowJson(f));
};

const messagesGet: Handler = async (ctx, _req, res, [id], url) => {
  const f = await flowOf(ctx, id!);
  const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
  const limit = Math.min(10_000, Math.max(1, Number(url.searchParams.get('limit') ?? 1000) || 1000));
  const list = streamMessages(f, offset, limit);
  if (list === null) throw new HttpError(400, `Flow ${f.id} has no WebSocket, TCP or UDP messages.`);
  sendJson(res, 200, list);
};

const exportFlow: Handler = async (ctx, _req, res, [id, format]) => {
  const f = await flowOf(ctx, id!);
  if (format === 'har') {
    sendText(res, 200, serializeHar(flowsToHar([f])).toString('utf8'), 'application/json; charset=utf-8');
    return;
  }
  if (!(EXPORT_FORMATS as readonly string[]).includes(format!)) {
    throw new HttpError(
      400,
      `Unknown export format ${JSON.stringify(format)}: use one of ${EXPORT_FORMATS.join(', ')}.`,
    );
  }
  const out = await callOnFlow(ctx.kernel.commands, 'export', f, format);
  sendText(res, 200, Buffer.isBuffer(out) ? out.toString('latin1') : String(out));
};

const exportHar: Handler = (ctx, _req, res, _p, url) => streamOut(res, JSON_TYPE, harDocument(matching(ctx, url)));

/** 409 if the backend keeps every flow (a store): nothing is deleted then. */
function checkDeletable(ctx: ApiContext): void {
  const why = ctx.backend.deleteRefused;
  if (why !== null) throw new HttpError(409, why);
}

function clearAll(ctx: ApiContext): void {
  checkDeletable(ctx);
  const flows = [...ctx.backend.all()];
  ctx.backend.clear();
  ctx.hub.cleared(flows);
}

const clear: Handler = (ctx, _req, res) => {
  clearAll(ctx);
  sendJson(res, 200, {});
};

const commandsList: Handler = (ctx, _req, res) => {
  const out: Record<string, WebCommand> = {};
  for (const c of ctx.kernel.commands.list()) {
    out[c.name] = {
      help: c.help,
      parameters: c.args.map((a, i) => ({
        name: a.name,
        type: a.type,
        kind: a.type === 'str[]' && i === c.args.length - 1 ? 'VAR_POSITIONAL' : 'POSITIONAL_OR_KEYWORD',
        optional: !!a.optional,
      })),
      return_type: c.returns ?? null,
      signature_help: c.signature,
    };
  }
  sendJson(res, 200, out);
};

/** mitmweb's answer: 200 with `{value}` or `{error}`. */
const commandRun: Handler = async (ctx, req, res, [name]) => {
  const body = await readJson(req);
  const args = (body as { arguments?: unknown }).arguments ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new HttpError(400, 'The body must be {"arguments": ["word", ...]} (strings, as on a command line).');
  }
  try {
    const value = await ctx.kernel.commands.callStrings(decodeURIComponent(name!), args as string[]);
    sendJson(res, 200, { value: resultJson(value) ?? null });
  } catch (err) {
    sendJson(res, 200, { error: (err as Error).message });
  }
};

const optionsPut: Handler = async (ctx, req, res) => {
  const body = await readJson(req);
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'The body must be a JSON object of option names and values.');
  try {
    ctx.kernel.options.update(body as Record<string, unknown>);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  sendJson(res, 200, {});
};

const optionsSave: Handler = async (ctx, _req, res) => {
  if (!ctx.kernel.commands.has('options.save'))
    throw new HttpError(
      501,
      'This build has no options.save command: load the core commands addon (@mitmts/addon-corecommands).',
    );
  const confdir = ctx.kernel.options.get<string>('confdir');
  const path = `${confdir.replace(/\/$/, '')}/config.yaml`;
  try {
    await ctx.kernel.commands.call('options.save', path);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  sendJson(res, 200, { path });
};

const ID = '([^/]+)';
const json = (p: string): RegExp => new RegExp(`^${p}(?:\\.json)?$`);

/** Method, path pattern (captures become params), handler, and whether it changes state. */
export const ROUTES: ReadonlyArray<readonly [string, RegExp, Handler]> = [
  ['GET', json('/filter-help'), (_c, _q, res) => sendJson(res, 200, { commands: FILTER_HELP })],
  ['GET', json('/flows'), flowList],
  ['GET', /^\/flows\/dump$/, dump],
  ['POST', /^\/flows\/dump$/, upload],
  ['GET', /^\/flows\/export\.har$/, exportHar],
  ['POST', /^\/flows\/resume$/, allIntercepted('flow.resume')],
  ['POST', /^\/flows\/kill$/, allIntercepted('flow.kill')],
  ['GET', new RegExp(`^/flows/${ID}$`), flowGet],
  ['PUT', new RegExp(`^/flows/${ID}$`), flowPut],
  ['DELETE', new RegExp(`^/flows/${ID}$`), flowDelete],
  ['POST', new RegExp(`^/flows/${ID}/(resume|kill|duplicate|replay|revert)$`), flowAction],
  ['GET', new RegExp(`^/flows/${ID}/(request|response|messages)/content\\.data$`), contentGet],
  ['POST', new RegExp(`^/flows/${ID}/(request|response|messages)/content\\.data$`), contentPost],
  ['GET', new RegExp(`^/flows/${ID}/messages$`), messagesGet],
  ['GET', new RegExp(`^/flows/${ID}/export/([a-z_-]+)$`), exportFlow],
  ['POST', /^\/clear$/, clear],
  ['GET', json('/commands'), commandsList],
  ['POST', /^\/commands\/([^/]+)$/, commandRun],
  ['GET', json('/events'), (ctx, _q, res) => sendJson(res, 200, ctx.events.list())],
  ['GET', json('/options'), (ctx, _q, res) => sendJson(res, 200, optionsJson(ctx.kernel))],
  ['PUT', json('/options'), optionsPut],
  ['POST', /^\/options\/save$/, optionsSave],
  ['GET', json('/state'), (ctx, _q, res) => sendJson(res, 200, ctx.state())],
];

/** The route for a request: its handler and captured params, or why there is none. */
export function route(
  method: string,
  path: string,
): { handler: Handler; params: string[] } | 'not-found' | 'bad-method' {
  let pathMatched = false;
  for (const [m, re, handler] of ROUTES) {
    const hit = re.exec(path);
    if (!hit) continue;
    pathMatched = true;
    if (m === method) return { handler, params: hit.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return pathMatched ? 'bad-method' : 'not-found';
}
