/**
 * UTF-8 validation of text messages (RFC 6455 section 8.1), incremental across fragments so a
 * fragmented message fails at the first bad fragment, not at its end. The bulk of each fragment
 * goes through Node's native `buffer.isUtf8` (short ASCII fragments, most chat and ticker
 * messages, are checked here: cheaper than the call); only a code point split between fragments
 * (at most 3 bytes carried over) is looked at byte by byte.
 */
import { Buffer, isUtf8 } from 'node:buffer';

/** Up to this many bytes, ASCII is recognised in JavaScript before calling `isUtf8`. */
const SHORT = 128;

/** Whether `b[from, to)` is valid UTF-8. */
function validUtf8(b: Buffer, from: number, to: number): boolean {
  if (to - from <= SHORT) {
    let i = from;
    while (i < to && b[i]! < 0x80) i++;
    if (i === to) return true;
    from = i;
  }
  return isUtf8(from === 0 && to === b.length ? b : b.subarray(from, to));
}

/** Length of the sequence a lead byte starts, or 0 for a continuation or invalid byte. */
/** Whether a whole message's bytes, `b[from, to)`, are valid UTF-8 (no fragment state involved). */
export function isValidUtf8(b: Buffer, from = 0, to = b.length): boolean {
  return validUtf8(b, from, to);
}

function sequenceLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/**
 * Where the incomplete code point at the end of `b[from, to)` starts, or `to` if the range
 * ends on a code point boundary. Bytes before the returned index can be validated on their own.
 */
function incompleteTail(b: Buffer, from: number, to: number): number {
  for (let i = to - 1; i >= from && i >= to - 3; i--) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) {
      const need = sequenceLength(c);
      return need > to - i ? i : to;
    }
  }
  return to;
}

/** Validates one text message, fragment by fragment. */
export class Utf8Validator {
  private carry = Buffer.alloc(4);
  private carried = 0;

  /** Forget any state (between messages). */
  reset(): void {
    this.carried = 0;
  }

  /**
   * Check the next fragment. `final` marks the message's last fragment (then no code point may
   * be left incomplete). Returns false as soon as the text is not valid UTF-8.
   */
  push(data: Buffer, final: boolean): boolean {
    let start = 0;
    if (this.carried > 0) {
      // Complete the code point split across fragments, then validate it alone.
      const need = sequenceLength(this.carry[0]!);
      while (this.carried < need && start < data.length) this.carry[this.carried++] = data[start++]!;
      if (this.carried < need) return !final && this.prefixValid();
      if (!isUtf8(this.carry.subarray(0, need))) return false;
      this.carried = 0;
    }
    const cut = final ? data.length : incompleteTail(data, start, data.length);
    if (cut > start && !validUtf8(data, start, cut)) return false;
    if (cut < data.length) {
      data.copy(this.carry, 0, cut);
      this.carried = data.length - cut;
      return this.prefixValid();
    }
    return true;
  }

  /** Whether the carried bytes can still become a valid code point (fail fast on e.g. ED A0). */
  private prefixValid(): boolean {
    const c = this.carry;
    const n = this.carried;
    for (let i = 1; i < n; i++) if ((c[i]! & 0xc0) !== 0x80) return false;
    if (n < 2) return true;
    const b0 = c[0]!;
    const b1 = c[1]!;
    if (b0 === 0xe0) return b1 >= 0xa0; // overlong
    if (b0 === 0xed) return b1 <= 0x9f; // surrogates
    if (b0 === 0xf0) return b1 >= 0x90; // overlong
    if (b0 === 0xf4) return b1 <= 0x8f; // above U+10FFFF
    return true;
  }
}
