/**
 * An HTTP flow as an OpenTelemetry CLIENT span, with the stable HTTP semantic-convention
 * attributes (https://opentelemetry.io/docs/specs/semconv/http/http-spans/): what mitmts saw of
 * one request, as if it had made it. Bodies are never part of a span.
 */
import { type HTTPFlow, FlowError } from '@mitmts/sdk';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  ERROR_TYPE_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions';

/** The methods semconv knows; others are reported as `_OTHER` with the original beside. */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
  'QUERY',
]);
/** Query parameters whose values semconv says to redact in `url.full`. */
const SECRET_PARAMS = new Set(['AWSAccessKeyId', 'Signature', 'sig', 'X-Goog-Signature']);

export interface SpanData {
  readonly name: string;
  /** Milliseconds since the epoch. */
  readonly startTime: number;
  readonly endTime: number;
  readonly attributes: Record<string, string | number>;
  /** Set for an error span: the status message. */
  readonly error: string | null;
}

/** `url` with userinfo removed and the values of signature parameters replaced by REDACTED. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  u.username = '';
  u.password = '';
  let changed = false;
  for (const key of [...u.searchParams.keys()]) {
    if (SECRET_PARAMS.has(key)) {
      u.searchParams.set(key, 'REDACTED');
      changed = true;
    }
  }
  // Rebuild only when needed: URL would normalize the rest (percent-encoding, default ports).
  if (!changed && !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(url)) return url;
  return u.toString();
}

function protocolVersion(v: string): string {
  const m = /^HTTP\/(\d(?:\.\d)?)$/i.exec(v);
  if (!m) return v;
  return m[1] === '2.0' ? '2' : m[1] === '3.0' ? '3' : m[1]!;
}

export function flowToSpan(flow: HTTPFlow): SpanData {
  const req = flow.request;
  const resp = flow.response;
  const method = req.method;
  const attributes: Record<string, string | number> = {
    [ATTR_HTTP_REQUEST_METHOD]: KNOWN_METHODS.has(method) ? method : ERROR_TYPE_VALUE_OTHER,
    [ATTR_URL_FULL]: redactUrl(req.prettyUrl),
    [ATTR_URL_SCHEME]: req.scheme,
    [ATTR_SERVER_ADDRESS]: req.prettyHost,
    [ATTR_SERVER_PORT]: req.port,
    [ATTR_NETWORK_PROTOCOL_VERSION]: protocolVersion(req.httpVersion),
  };
  if (!KNOWN_METHODS.has(method)) attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = req.rawMethod;
  const ua = req.headers.get('user-agent');
  if (ua) attributes[ATTR_USER_AGENT_ORIGINAL] = ua;
  const peer = flow.serverConn?.peername;
  if (peer && peer[0]) {
    attributes[ATTR_NETWORK_PEER_ADDRESS] = peer[0];
    attributes[ATTR_NETWORK_PEER_PORT] = peer[1];
  }
  let error: string | null = null;
  if (resp) {
    attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = resp.statusCode;
    // Client spans: 4xx and 5xx are errors.
    if (resp.statusCode >= 400) {
      attributes[ATTR_ERROR_TYPE] = String(resp.statusCode);
      error = `HTTP ${resp.statusCode}`;
    }
  }
  if (flow.error) {
    attributes[ATTR_ERROR_TYPE] = flow.error.msg === FlowError.KILLED_MESSAGE ? 'killed' : ERROR_TYPE_VALUE_OTHER;
    error = flow.error.msg;
  }
  const start = req.timestampStart;
  const end = flow.websocket?.timestampEnd ?? resp?.timestampEnd ?? flow.error?.timestamp ?? start;
  return {
    name: KNOWN_METHODS.has(method) ? method : 'HTTP',
    startTime: start * 1000,
    endTime: Math.max(end, start) * 1000,
    attributes,
    error,
  };
}
