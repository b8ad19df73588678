/**
 * `mitmts flows --group endpoint`: flows grouped by method, host and path template, where the
 * template collapses the path segments that are ids (`/users/42/orders/9f1c...` becomes
 * `/users/{id}/orders/{id}`). Each group counts its flows, statuses and content types, keeps one
 * example (the first successful flow, else the first), the query parameter names seen, and with
 * `--schema` the merged shapes of its JSON request bodies, successful response bodies, error
 * response bodies and event-stream events.
 */
import type { HTTPFlow } from '../../flow/http-flow.js';
import { decodeQuery, defaultPort, splitPath } from '../../flow/url.js';
import type { JsonObject, JsonValue } from './json.js';
import { Shape } from './shape.js';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const NUMBER = /^-?\d+$/;
/** Hex of 8+ characters with at least one decimal digit (object ids, hashes; not the word "deadbeef"). */
const HEX = /^(?=[a-f]*\d)[0-9a-f]{8,}$/i;
/** Base64 / url-safe token characters, 16 or more. */
const TOKEN_CHARS = /^[A-Za-z0-9_-]{16,}={0,2}$/;

/**
 * Random tokens mix letters and digits; names (`getUserProfileV2`) have a digit or none. Two
 * digits, or one in a long token, tells them apart well enough (a missed token only splits a
 * group).
 */
function isToken(s: string): boolean {
  if (!TOKEN_CHARS.test(s) || !/[A-Za-z]/.test(s)) return false;
  const digits = s.replace(/\D/g, '').length;
  return digits >= 2 || (digits === 1 && s.length >= 24);
}
/** Prefixed ids as Stripe and others write them: `cus_NffrFeUfNV2Hib`, `msg_01XFDUDYJgAACzvnptvVoYEL`. */
const PREFIXED = /^[a-z]{2,8}_(?=.*\d)[A-Za-z0-9]{8,}$/;

/** Is this path segment (or object key) an id: a number, UUID, hex or base64 token? */
export function isIdSegment(s: string): boolean {
  if (s.length === 0) return false;
  return NUMBER.test(s) || UUID.test(s) || HEX.test(s) || isToken(s) || PREFIXED.test(s);
}

/** A path (query and fragment dropped) with id segments as `{id}`; `123.json` keeps its extension. */
export function pathTemplate(path: string): string {
  const [p] = splitPath(path);
  return p
    .split('/')
    .map((seg) => {
      if (isIdSegment(seg)) return '{id}';
      const dot = seg.lastIndexOf('.');
      if (dot > 0 && /^\.[A-Za-z0-9]{1,5}$/.test(seg.slice(dot)) && isIdSegment(seg.slice(0, dot)))
        return `{id}${seg.slice(dot)}`;
      return seg;
    })
    .join('/');
}

/** The grouping key of an HTTP flow: `GET api.example.com/v1/items/{id}` (port only when not the default). */
export function endpointOf(f: HTTPFlow): { key: string; method: string; host: string; path: string } {
  const r = f.request;
  const host = r.prettyHost + (r.port === defaultPort(r.scheme) || r.port === 0 ? '' : `:${r.port}`);
  const path = pathTemplate(r.path || '/');
  return { key: `${r.method} ${host}${path}`, method: r.method, host, path };
}

const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

function countsObject(m: Map<string, number>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) out[k] = v;
  return out;
}

const mediaOf = (ct: string | undefined): string => (ct ? ct.split(';')[0]!.trim().toLowerCase() : '(none)');

/** One endpoint's aggregate. */
export class EndpointGroup {
  count = 0;
  private readonly statuses = new Map<string, number>();
  private readonly requestTypes = new Map<string, number>();
  private readonly responseTypes = new Map<string, number>();
  private readonly params = new Set<string>();
  private example: JsonValue = null;
  private exampleOk = false;
  readonly requestShape = new Shape();
  /** Bodies of successful (2xx) responses. */
  readonly responseShape = new Shape();
  /** Bodies of error (4xx, 5xx) responses, apart: they would make every field look optional. */
  readonly errorShape = new Shape();
  private events: Map<string, Shape> | null = null;

  constructor(
    readonly key: string,
    readonly method: string,
    readonly host: string,
    readonly path: string,
  ) {}

  /**
   * Count a flow. `render` is called for at most two flows per group (the first, and the first
   * successful one if the first was not), so that rendering cost stays per endpoint, not per flow.
   */
  add(f: HTTPFlow, render: (f: HTTPFlow) => JsonValue): void {
    this.count++;
    const resp = f.response;
    const status = resp !== null ? String(resp.statusCode) : f.error !== null ? 'error' : 'no response';
    bump(this.statuses, status);
    if (f.request.rawContent !== null && f.request.rawContent.length > 0)
      bump(this.requestTypes, mediaOf(f.request.headers.get('content-type')));
    if (resp !== null) bump(this.responseTypes, mediaOf(resp.headers.get('content-type')));
    const [, query] = splitPath(f.request.path);
    if (query) for (const [k] of decodeQuery(query)) if (this.params.size < 100) this.params.add(k);
    const ok = resp !== null && resp.statusCode >= 200 && resp.statusCode < 300;
    if (this.count === 1 || (ok && !this.exampleOk)) {
      this.example = render(f);
      this.exampleOk = ok;
    }
  }

  /** The merged shape of one event type of this endpoint's event-stream responses. */
  eventShape(event: string): Shape {
    const events = (this.events ??= new Map());
    let s = events.get(event);
    if (s === undefined) events.set(event, (s = new Shape()));
    return s;
  }

  /** The group as one output object; schemas only when asked for. */
  toJson(schema: boolean): JsonObject {
    const out: JsonObject = {
      endpoint: this.key,
      method: this.method,
      host: this.host,
      path: this.path,
      count: this.count,
      statuses: countsObject(this.statuses),
      request_content_types: countsObject(this.requestTypes),
      response_content_types: countsObject(this.responseTypes),
      query_params: [...this.params].sort(),
    };
    if (schema) {
      out.request_schema = this.requestShape.n > 0 ? this.requestShape.toJson() : null;
      out.response_schema = this.responseShape.n > 0 ? this.responseShape.toJson() : null;
      if (this.errorShape.n > 0) out.error_schema = this.errorShape.toJson();
      if (this.events !== null) {
        const ev: JsonObject = {};
        for (const [name, shape] of this.events) ev[name] = shape.toJson();
        out.response_event_schema = ev;
      }
    }
    out.example = this.example;
    return out;
  }
}

/** All groups of a run, in first-seen order until `sorted()`. */
export class EndpointGroups {
  private readonly groups = new Map<string, EndpointGroup>();

  /** The group of this flow (created on first sight). */
  groupOf(f: HTTPFlow): EndpointGroup {
    const e = endpointOf(f);
    let g = this.groups.get(e.key);
    if (g === undefined) this.groups.set(e.key, (g = new EndpointGroup(e.key, e.method, e.host, e.path)));
    return g;
  }

  get size(): number {
    return this.groups.size;
  }

  /** Most flows first, then by endpoint. */
  sorted(): EndpointGroup[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
