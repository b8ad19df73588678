/** Calls to the server's REST API: same origin, the auth cookie, and the XSRF header on changes. */

function xsrf(): string {
  const m = /(?:^|;\s*)_mitmproxy_xsrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : '';
}

/** An answer that is not 2xx: its status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  let payload: BodyInit | undefined;
  if (method !== 'GET') headers['X-XSRFToken'] = xsrf();
  if (body instanceof Blob || body instanceof ArrayBuffer) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, (await res.text()) || res.statusText);
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await api('GET', path)).json()) as T;
}

export async function send<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await api(method, path, body);
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}
