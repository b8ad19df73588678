/**
 * Per-stream state of a connection (RFC 9113 section 5.1), as plain fields: no closures, one
 * object per stream.
 * @internal
 */
import type { Buffer } from 'node:buffer';
import type { OutboundHeaders } from '../http1/serialize.js';

export class Stream {
  // --- receiving (what the peer sends)
  /** Bytes the peer may still send before breaking our window. */
  recvWindow: number;
  /** Bytes handed out through onData and not consumed yet. */
  unconsumed = 0;
  /** Consumed bytes not yet given back with WINDOW_UPDATE. */
  unacked = 0;
  /** The peer sent END_STREAM (or RST_STREAM): half-closed (remote). */
  remoteEnded = false;
  /** The final head (request, or non-1xx response) arrived. */
  headIn = false;
  /** `content-length` of the peer's message, -1 if absent or not to be checked. */
  expectedLength = -1;
  /** DATA bytes received (without padding), for the content-length check. */
  receivedLength = 0;
  /** Client role: the request was HEAD, so the response's content-length announces no body. */
  headRequest = false;

  // --- sending (what we send)
  /** Bytes we may still send before breaking the peer's window. */
  sendWindow: number;
  /** Our final head went out (response) or the stream was opened by us (request). */
  headOut = false;
  /** The user ended the stream (END_STREAM or trailers given, maybe still queued). */
  localEnded = false;
  /** END_STREAM actually went out: half-closed (local). */
  endSent = false;
  /** DATA waiting for window: chunks from `queueHead` on, the first from `queueOffset`. */
  queue: Buffer[] | null = null;
  queueHead = 0;
  queueOffset = 0;
  queuedBytes = 0;
  /** END_STREAM goes with the last queued chunk. */
  queueEnd = false;
  /** Trailers to send once the queue is empty. */
  queuedTrailers: OutboundHeaders | null = null;

  /** Closed in both directions (or reset); kept in the map only while `unconsumed` > 0. */
  closed = false;

  constructor(
    readonly id: number,
    /** Opened by the peer (server role: every request stream). */
    readonly peerInitiated: boolean,
    recvWindow: number,
    sendWindow: number,
  ) {
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }
}
