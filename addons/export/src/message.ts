import { CommandError, type Flow, HTTPFlow, type HTTPRequest, type HTTPResponse } from '@mitmts/sdk';

/** A decoded copy of the flow's request (Content-Encoding removed), as every export starts from. */
export function cleanRequest(f: Flow): HTTPRequest {
  if (!(f instanceof HTTPFlow) || !f.request) throw new CommandError("Can't export flow with no request.");
  const r = f.request.copy();
  r.decode(false);
  return r;
}

/** A decoded copy of the flow's response. */
export function cleanResponse(f: Flow): HTTPResponse {
  if (!(f instanceof HTTPFlow) || !f.response) throw new CommandError("Can't export flow with no response.");
  const r = f.response.copy();
  r.decode(false);
  return r;
}

/**
 * The headers a command-line client should send itself: without Content-Length (the client
 * computes it) and without a Host header that only repeats the URL's host.
 */
export function headersToSend(r: HTTPRequest): Array<[string, string]> {
  return r.headers.items(true).filter(([k, v]) => {
    const name = k.toLowerCase();
    return name !== 'content-length' && !(name === 'host' && v === r.host);
  });
}

/** The body to send, or null when there is none. */
export function body(r: HTTPRequest): Buffer | null {
  const c = r.rawContent;
  return c !== null && c.length > 0 ? c : null;
}
