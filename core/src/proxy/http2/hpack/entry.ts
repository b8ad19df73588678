/**
 * A header field as HPACK's tables hold it.
 * @internal
 */
import type { Buffer } from 'node:buffer';
import { latin1 } from '../../http1/chars.js';

/**
 * One table entry: name and value bytes, never mutated (decoded header lists hand these Buffers
 * out as they are), with the RFC 7541 section 4.1 size and a cached latin1 string of the value
 * (pseudo-header values are strings in a head; a repeated `:authority` decodes once).
 */
export class HeaderEntry {
  /** `name.length + value.length + 32`. */
  readonly size: number;
  /** Insertion number in the dynamic table (encoder side), -1 for static entries. */
  seq = -1;
  /** Lookup hash of name + value (encoder side). */
  hash = 0;
  /** Name and value passed the receiving connection's field checks (decoder side), so a reference to this entry needs none. */
  checked = false;
  private str: string | undefined = undefined;

  constructor(
    readonly name: Buffer,
    readonly value: Buffer,
  ) {
    this.size = name.length + value.length + 32;
  }

  /** The value as a latin1 string (computed once). */
  valueString(): string {
    return (this.str ??= latin1(this.value, 0, this.value.length));
  }
}
