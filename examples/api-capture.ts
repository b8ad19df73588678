/**
 * Capture an API client: one JSON line per exchange, with the request, the response (JSON
 * bodies as values, Server-Sent Events parsed into events), the timings and, for programs
 * started by `mitmts run`, their command line. Secrets are redacted unless told otherwise.
 * Run: mitmts run -q -s api-capture.ts --set api_capture=calls.jsonl -- node client.mjs
 *      mitmts -s api-capture.ts --set api_capture=calls.jsonl --set api_capture_filter='~d api.example.com'
 * (not in mitmproxy's examples; its nearest is contrib/jsondump.py)
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import {
  addon,
  FilterError,
  option,
  OptionsError,
  parseFilter,
  parseSse,
  Redactor,
  RUN_METADATA,
  type Filter,
  type HTTPHeaders,
  type HTTPFlow,
  type JsonValue,
  type Message,
} from '@mitmts/sdk';

/** One exchange, as a line of the capture file. */
export interface CaptureRecord {
  id: string;
  /** The command line of the process (mitmts run), or null. */
  run: string | null;
  started: string;
  request: {
    method: string;
    url: string;
    http_version: string;
    headers: Record<string, string | string[]>;
    body: JsonValue;
  };
  response: {
    status: number;
    reason: string;
    http_version: string;
    headers: Record<string, string | string[]>;
    body: JsonValue;
    events?: SseRecord[];
  } | null;
  error: string | null;
  /** Milliseconds: sending the request, waiting for the response head, receiving the body, all. */
  timings_ms: { send: number | null; wait: number | null; receive: number | null; total: number | null };
}

export interface SseRecord {
  event: string;
  id?: string;
  /** The data, parsed when it is JSON (`[DONE]` and other text stay strings). */
  data: JsonValue;
}

@addon({ name: 'apicapture' })
class ApiCapture {
  @option({ type: 'str?', default: null, help: 'Append one JSON line per HTTP exchange to this file.' })
  api_capture!: string | null;

  @option({ type: 'str?', default: null, help: 'Only capture the exchanges matching this filter expression.' })
  api_capture_filter!: string | null;

  @option({
    type: 'bool',
    default: true,
    help: 'Replace secrets (Authorization, cookies, API keys, tokens, passwords) with "<redacted N chars>".',
  })
  api_capture_redact!: boolean;

  private out: WriteStream | null = null;
  private filter: Filter | null = null;
  private redactor = new Redactor(true);

  configure(updated: ReadonlySet<string>): void {
    if (updated.has('api_capture_filter')) {
      try {
        this.filter = this.api_capture_filter ? parseFilter(this.api_capture_filter) : null;
      } catch (err) {
        if (err instanceof FilterError) throw new OptionsError(`api_capture_filter: ${err.message}`);
        throw err;
      }
    }
    if (updated.has('api_capture_redact')) this.redactor = new Redactor(this.api_capture_redact);
    if (updated.has('api_capture')) {
      this.out?.end();
      this.out = this.api_capture ? createWriteStream(this.api_capture, { flags: 'a' }) : null;
    }
  }

  response(flow: HTTPFlow): void {
    this.write(flow);
  }

  error(flow: HTTPFlow): void {
    this.write(flow);
  }

  done(): Promise<void> {
    const out = this.out;
    this.out = null;
    return new Promise((resolve) => (out ? out.end(resolve) : resolve()));
  }

  private write(flow: HTTPFlow): void {
    if (this.out === null || (this.filter !== null && !this.filter.match(flow))) return;
    this.out.write(JSON.stringify(this.record(flow)) + '\n');
  }

  record(flow: HTTPFlow): CaptureRecord {
    const req = flow.request;
    const resp = flow.response;
    const ms = (a: number | null | undefined, b: number | null | undefined): number | null =>
      a == null || b == null ? null : Math.round((b - a) * 1000 * 10) / 10;
    const run = flow.metadata[RUN_METADATA.cmd];
    return {
      id: flow.id,
      run: typeof run === 'string' ? run : null,
      started: new Date(req.timestampStart * 1000).toISOString(),
      request: {
        method: req.method,
        url: this.redactor.url(req.prettyUrl),
        http_version: req.httpVersion,
        headers: this.headers(req.headers),
        body: this.body(req),
      },
      response:
        resp === null
          ? null
          : {
              status: resp.statusCode,
              reason: resp.reason,
              http_version: resp.httpVersion,
              headers: this.headers(resp.headers),
              body: this.body(resp),
              ...(isEventStream(resp) ? { events: this.events(resp) } : {}),
            },
      error: flow.error?.msg ?? null,
      timings_ms: {
        send: ms(req.timestampStart, req.timestampEnd),
        wait: ms(req.timestampEnd, resp?.timestampStart),
        receive: ms(resp?.timestampStart, resp?.timestampEnd),
        total: ms(req.timestampStart, resp?.timestampEnd ?? flow.error?.timestamp),
      },
    };
  }

  private headers(h: HTTPHeaders): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of h.items(true)) {
      const name = k.toLowerCase();
      const value = this.redactor.header(k, v);
      const prev = out[name];
      out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    return out;
  }

  /** JSON as a value, text as text, anything else as its size; null when empty. */
  private body(m: Message): JsonValue {
    const content = safeContent(m);
    if (content === null || content.length === 0) return null;
    const text = textOf(m, content);
    if (text === null) return { binary_bytes: content.length };
    const json = parseJson(text);
    return json === undefined ? this.redactor.text(text) : this.redactor.json(json);
  }

  private events(resp: Message): SseRecord[] {
    const content = safeContent(resp);
    const text = content === null ? null : textOf(resp, content);
    if (text === null) return [];
    return parseSse(text).map((e) => {
      const data = parseJson(e.data);
      return {
        event: e.event,
        ...(e.id !== undefined ? { id: e.id } : {}),
        data: data === undefined ? this.redactor.text(e.data) : this.redactor.json(data),
      };
    });
  }
}

const isEventStream = (m: Message): boolean => /^\s*text\/event-stream/i.test(m.headers.get('content-type') ?? '');

/** The decoded body (gzip, br, ... undone), or the raw one if it does not decode. */
function safeContent(m: Message): Buffer | null {
  try {
    return m.getContent(false);
  } catch {
    return m.rawContent;
  }
}

/** The body as text when it is UTF-8 text (binary types are not even tried). */
function textOf(m: Message, content: Buffer): string | null {
  const ct = (m.headers.get('content-type') ?? '').toLowerCase();
  if (/^(image|audio|video|font)\/|octet-stream|protobuf|zip/.test(ct)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return null;
  }
}

function parseJson(text: string): JsonValue | undefined {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

export default ApiCapture;
