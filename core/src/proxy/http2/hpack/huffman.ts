/**
 * The HPACK Huffman code (RFC 7541 section 5.2 and Appendix B): a table-driven decoder that
 * reads 4 bits per step, and an encoder. The RFC's code is canonical (codes of one length are
 * consecutive, in symbol order), so the bit lengths below define it completely; the codes are
 * derived from them when the module loads.
 * @internal
 */

/** Code length in bits of each symbol 0..255 and EOS (256), from RFC 7541 Appendix B. */
// prettier-ignore
const LENGTHS = Uint8Array.from([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
]);

const EOS = 256;

/** Canonical codes: symbols sorted by (length, symbol) get consecutive codes. */
const CODES = (() => {
  const order = Array.from({ length: 257 }, (_, s) => s).sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  const codes = new Uint32Array(257);
  let code = 0;
  let len = LENGTHS[order[0]!]!;
  for (let i = 0; i < order.length; i++) {
    const s = order[i]!;
    if (i > 0) {
      code = (code + 1) * 2 ** (LENGTHS[s]! - len);
      len = LENGTHS[s]!;
    }
    codes[s] = code;
  }
  return codes;
})();

/** Bytes the Huffman encoding of `src[start..end)` takes. */
export function huffmanLength(src: Uint8Array, start: number, end: number): number {
  let bits = 0;
  for (let i = start; i < end; i++) bits += LENGTHS[src[i]!]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman encoding of `src[start..end)` at `dst[off]` (padded with 1-bits to a whole
 * byte) and returns the offset after it. `dst` must have `huffmanLength` bytes free.
 */
export function huffmanEncode(src: Uint8Array, start: number, end: number, dst: Uint8Array, off: number): number {
  let acc = 0; // pending bits, at most 7 between symbols, in the low bits
  let n = 0;
  for (let i = start; i < end; i++) {
    const sym = src[i]!;
    let code = CODES[sym]!;
    let len = LENGTHS[sym]!;
    if (len > 24) {
      // keep acc within 31 bits: push the high part first
      const hi = len - 24;
      acc = (acc << hi) | (code >>> 24);
      n += hi;
      code &= 0xffffff;
      len = 24;
      while (n >= 8) {
        n -= 8;
        dst[off++] = (acc >>> n) & 0xff;
      }
      acc &= (1 << n) - 1;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) {
      n -= 8;
      dst[off++] = (acc >>> n) & 0xff;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) dst[off++] = ((acc << (8 - n)) | ((1 << (8 - n)) - 1)) & 0xff;
  return off;
}

// Decoder: a state machine over the code tree's 256 internal nodes, stepping 4 bits at a time.
// Entry = next state (bits 0-7) | symbol (bits 8-15) | EMIT | FAIL. At most one symbol can end
// within 4 bits (the shortest code has 5), so one entry emits at most one byte.
const EMIT = 1 << 16;
const FAIL = 1 << 17;

const { DECODE, ACCEPT } = (() => {
  // Build the tree: child[node * 2 + bit] = node id (>= 0, internal) or ~symbol (leaf).
  const child = new Int32Array(256 * 2).fill(0x7fffffff);
  let nodes = 1;
  for (let s = 0; s <= EOS; s++) {
    const len = LENGTHS[s]!;
    const code = CODES[s]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        child[slot] = ~s;
      } else {
        if (child[slot] === 0x7fffffff) child[slot] = nodes++;
        node = child[slot]!;
      }
    }
  }
  // States that may end a string: on the all-ones path from the root, at most 7 bits deep
  // (padding is a prefix of EOS shorter than a byte, RFC 7541 section 5.2).
  const accept = new Uint8Array(256);
  let node = 0;
  for (let depth = 0; depth <= 7; depth++) {
    accept[node] = 1;
    node = child[node * 2 + 1]!;
  }
  const table = new Uint32Array(256 * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let cur = state;
      let entry = 0;
      for (let b = 3; b >= 0; b--) {
        const next = child[cur * 2 + ((nibble >>> b) & 1)]!;
        if (next < 0) {
          const sym = ~next;
          if (sym === EOS) {
            entry = FAIL;
            break;
          }
          entry = EMIT | (sym << 8);
          cur = 0;
        } else {
          cur = next;
        }
      }
      table[(state << 4) | nibble] = entry & FAIL ? FAIL : entry | cur;
    }
  }
  return { DECODE: table, ACCEPT: accept };
})();

/**
 * Decodes the Huffman string `src[start..end)` into `dst` at `off`; returns the offset after the
 * decoded bytes, or -1 if the input is not a valid encoding (EOS inside, padding longer than 7
 * bits or not all ones). `dst` must have room for `(end - start) * 8 / 5` bytes.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, dst: Uint8Array, off: number): number {
  let state = 0;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    let e = DECODE[(state << 4) | (b >>> 4)]!;
    if (e & FAIL) return -1;
    if (e & EMIT) dst[off++] = (e >>> 8) & 0xff;
    state = e & 0xff;
    e = DECODE[(state << 4) | (b & 0xf)]!;
    if (e & FAIL) return -1;
    if (e & EMIT) dst[off++] = (e >>> 8) & 0xff;
    state = e & 0xff;
  }
  return ACCEPT[state] ? off : -1;
}

/** Upper bound of the decoded size of `n` Huffman-encoded bytes (the shortest code has 5 bits). */
export function huffmanDecodedBound(n: number): number {
  return Math.ceil((n * 8) / 5);
}
