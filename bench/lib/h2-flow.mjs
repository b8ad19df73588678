// What the HTTP/2 benches make of each stream, standing in for the real pipeline: a flow-like
// object (heads as header pairs, bodies buffered) and one synchronous hook.

/** A flow-like object: heads as header pairs, bodies buffered. */
export class Flow {
  constructor(id, head) {
    this.id = id;
    this.request = head;
    this.requestBody = [];
    this.response = null;
    this.responseBody = [];
    this.upstreamId = 0;
    this.marked = false;
  }
}

/** One synchronous hook, like an addon reading a header and setting a field. */
export function hook(flow, phase) {
  const headers = phase === 'request' ? flow.request.headers : flow.response.headers;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0].length === 10 && headers[i][0].latin1Slice(0, 10) === 'user-agent') flow.marked = true;
  }
}
