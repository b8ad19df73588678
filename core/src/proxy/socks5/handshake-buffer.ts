import { Buffer } from 'node:buffer';

const EMPTY = Buffer.alloc(0);

/**
 * Received bytes of a handshake (SOCKS5 server or client side): messages are small, so chunks
 * are simply appended; what is left after the handshake belongs to the tunnel.
 * @internal
 */
export class HandshakeBuffer {
  protected buf: Buffer = EMPTY;
  /** Bytes of the peer's stream consumed so far (for error offsets). */
  protected consumed = 0;

  protected take(n: number): void {
    this.buf = this.buf.subarray(n);
    this.consumed += n;
  }

  protected append(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Bytes received past the handshake (tunnel data), handed over once. */
  takeRemaining(): Buffer {
    const rest = this.buf;
    this.buf = EMPTY;
    return rest;
  }
}

/** Bytes of several messages as one write (null for none). @internal */
export function join(parts: Buffer[]): Buffer | null {
  return parts.length === 0 ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
