/**
 * The server half of an exchange failed: no connection (refused, unresolvable, `server_connect`
 * said no, TLS), or it broke (reset, closed early, an invalid response). The message is final: it
 * becomes the flow's error and the text of the 502 page.
 */
export class UpstreamError extends Error {
  constructor(
    message: string,
    /** The system error code of a failed connect (`ECONNREFUSED`, `ENOTFOUND`, ...), when there is one. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}

/** A flow's error when its client went away before the exchange ended (mitmproxy's words). */
export const CLIENT_DISCONNECTED = 'Client disconnected.';

/** The client went away while its request was being read or its response written. */
export function clientDisconnected(): UpstreamError {
  return new UpstreamError(CLIENT_DISCONNECTED);
}
