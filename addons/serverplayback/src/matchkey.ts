import type { HTTPFlow } from '@mitmts/sdk';

/** The options that decide which parts of a request must match a recorded one. */
export interface MatchOptions {
  readonly ignoreContent: boolean;
  readonly ignoreHost: boolean;
  readonly ignorePort: boolean;
  /** Query parameter names left out. */
  readonly ignoreParams: readonly string[];
  /** Form field names (urlencoded or multipart) left out; empty: the raw body counts. */
  readonly ignorePayloadParams: readonly string[];
  /** Request header names whose values must match too. */
  readonly useHeaders: readonly string[];
}

/**
 * The key two requests share when one may be answered with the other's recorded response
 * (mitmproxy's loose request hash): scheme, method and path (without the query); the body
 * (unless ignored; with `ignorePayloadParams`, the form fields other than those); the host as
 * the client named it and the port (unless ignored); the query parameters in order, without
 * the ignored ones; and the values of the `useHeaders` headers.
 */
export function matchKey(flow: HTTPFlow, o: MatchOptions): string {
  const r = flow.request;
  const key: unknown[] = [r.scheme, r.method, pathOnly(r.path)];
  if (!o.ignoreContent) key.push(bodyKey(flow, o.ignorePayloadParams));
  if (!o.ignoreHost) key.push(r.prettyHost);
  if (!o.ignorePort) key.push(r.port);
  for (const [name, value] of r.query.items(true)) {
    if (!o.ignoreParams.includes(name)) key.push(name, value);
  }
  if (o.useHeaders.length > 0) key.push(o.useHeaders.map((h) => [h, r.headers.get(h) ?? null]));
  return JSON.stringify(key);
}

function pathOnly(path: string): string {
  const q = path.search(/[?#]/);
  return q < 0 ? path : path.slice(0, q);
}

function bodyKey(flow: HTTPFlow, ignore: readonly string[]): unknown {
  const r = flow.request;
  if (ignore.length > 0) {
    const multipart = r.multipartForm.items(true);
    if (multipart.length > 0)
      return multipart.filter(([k]) => !ignore.includes(k)).map(([k, v]) => [k, v.toString('latin1')]);
    const form = r.urlencodedForm.items(true);
    if (form.length > 0) return form.filter(([k]) => !ignore.includes(k));
  }
  return r.rawContent === null ? null : r.rawContent.toString('latin1');
}
