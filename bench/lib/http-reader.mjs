// A minimal HTTP/1.1 response reader for the load generator: finds where each response ends
// (Content-Length, chunked, or no body) without building header objects. Cheaper than Node's
// http client, so the generator spends its CPU on the sockets, not on itself.
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const CL = /\r\ncontent-length:[ \t]*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:[^\r]*chunked/i;

const HEAD = 0;
const BODY = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_CRLF = 4;
const TRAILERS = 5;

export class ResponseReader {
  /**
   * @param {(status: number, bodyBytes: number, head: string) => void} onResponse called once per complete response
   * @param {((n: number) => void) | null} onBodyBytes called with body byte counts as they arrive (downloads)
   */
  constructor(onResponse, onBodyBytes = null) {
    this.onResponse = onResponse;
    this.onBodyBytes = onBodyBytes;
    this.state = HEAD;
    this.pending = null;
    this.left = 0;
    this.status = 0;
    this.body = 0;
    this.head = '';
    /** Set to a message when the stream cannot be parsed. */
    this.error = null;
  }

  /** Consume bytes from the socket; calls onResponse for each response that completes. */
  feed(chunk) {
    if (this.pending !== null) {
      chunk = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      switch (this.state) {
        case HEAD: {
          const idx = chunk.indexOf(CRLFCRLF, off);
          if (idx < 0) {
            this.pending = chunk.subarray(off);
            return;
          }
          const head = chunk.toString('latin1', off, idx + 2);
          off = idx + 4;
          this.status = Number(head.slice(9, 12));
          this.head = head;
          this.body = 0;
          if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) {
            if (this.status >= 200) this.finish();
            break;
          }
          const cl = CL.exec(head);
          if (cl) {
            this.left = Number(cl[1]);
            if (this.left === 0) this.finish();
            else this.state = BODY;
          } else if (CHUNKED.test(head)) {
            this.state = CHUNK_SIZE;
          } else {
            this.error = `response without Content-Length or chunked framing: ${head.split('\r\n')[0]}`;
            return;
          }
          break;
        }
        case BODY: {
          const n = Math.min(this.left, len - off);
          this.left -= n;
          this.body += n;
          off += n;
          if (this.onBodyBytes) this.onBodyBytes(n);
          if (this.left === 0) this.finish();
          break;
        }
        case CHUNK_SIZE: {
          const idx = chunk.indexOf(CRLF, off);
          if (idx < 0) {
            this.pending = chunk.subarray(off);
            return;
          }
          const size = parseInt(chunk.toString('latin1', off, idx), 16);
          off = idx + 2;
          if (Number.isNaN(size)) {
            this.error = 'bad chunk size line';
            return;
          }
          if (size === 0) this.state = TRAILERS;
          else {
            this.left = size;
            this.state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.left, len - off);
          this.left -= n;
          this.body += n;
          off += n;
          if (this.onBodyBytes) this.onBodyBytes(n);
          if (this.left === 0) this.state = CHUNK_CRLF;
          break;
        }
        case CHUNK_CRLF: {
          if (len - off < 2) {
            this.pending = chunk.subarray(off);
            return;
          }
          off += 2;
          this.state = CHUNK_SIZE;
          break;
        }
        case TRAILERS: {
          const idx = chunk.indexOf(CRLF, off);
          if (idx < 0) {
            this.pending = chunk.subarray(off);
            return;
          }
          const empty = idx === off;
          off = idx + 2;
          if (empty) this.finish();
          break;
        }
      }
    }
  }

  finish() {
    this.state = HEAD;
    this.onResponse(this.status, this.body, this.head);
  }
}
