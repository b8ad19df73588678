/**
 * Dict shapes for the tnetstring decoder. mitmproxy writes the same dicts with the same keys in
 * the same order in every record (a connection, a request, ...), so the decoder learns each key
 * sequence once, in a trie:
 *
 * - a node's children are the keys seen after its key sequence, each with its exact encoding
 *   (`7:address;`); the decoder compares the bytes at its position with them instead of hashing
 *   and looking up the key, and so knows the key string without creating one;
 * - a node where a dict ended gets a builder: a function made once for that key sequence that
 *   creates the dict as one object literal. V8 then allocates the object with its final hidden
 *   class and all properties in place, instead of growing it key by key through generic stores.
 *
 * Everything is bounded (nodes, children per node, keys per dict, builders), so arbitrary
 * metadata dicts cannot grow the trie without limit: past a bound the decoder builds the dict
 * key by key, as before. The result is the same object either way (same keys, same order).
 */
import type { TnetValue } from './tnetstring.js';

export type TnetDict = { [key: string]: TnetValue };

/** Creates a dict from `values[base ...]`, one value per key of the shape, in key order. */
export type DictBuilder = (values: TnetValue[], base: number) => TnetDict;

const MAX_NODES = 4096;
const MAX_CHILDREN = 32;
const MAX_KEYS = 64;
const MAX_BUILDERS = 1024;

let nodeCount = 0;
let builderCount = 0;
/** False once the runtime refused to compile a builder (code generation from strings disabled). */
let buildersAllowed = true;

export class ShapeNode {
  /** Keys seen after this one, in first-seen order. */
  readonly children: ShapeNode[] = [];
  /** The builder for dicts with exactly this key sequence, once one ended here. */
  build: DictBuilder | undefined = undefined;
  /** True if no builder can be made (limits); the decoder builds key by key. */
  noBuild = false;
  /** Length of `enc`. */
  readonly length: number;
  /**
   * `enc` as little-endian 32-bit words: whole words from the start, and a last word that ends
   * where `enc` ends (overlapping the one before unless the length is a multiple of 4). Empty
   * for encodings shorter than 4 bytes.
   */
  readonly words: Int32Array;

  constructor(
    /** The key (empty for the root). */
    readonly key: string,
    /** The key's tnetstring encoding, prefix and type tag included (empty for the root). */
    readonly enc: Uint8Array,
    readonly parent: ShapeNode | undefined,
    /** Number of keys from the root to this node. */
    readonly depth: number,
  ) {
    const n = enc.length;
    this.length = n;
    const word = (o: number): number => enc[o]! | (enc[o + 1]! << 8) | (enc[o + 2]! << 16) | (enc[o + 3]! << 24);
    const full = n < 4 ? 0 : (n - 1) >> 2;
    this.words = new Int32Array(n < 4 ? 0 : full + 1);
    for (let i = 0; i < full; i++) this.words[i] = word(4 * i);
    if (n >= 4) this.words[full] = word(n - 4);
  }
}

/** The empty key sequence: every dict starts here. */
export const SHAPE_ROOT = new ShapeNode('', new Uint8Array(0), undefined, 0);

/**
 * The child of `node` for `key`, encoded as `buf[s, e)`; added if missing. Undefined when a
 * limit is reached (the rest of that dict is decoded without shapes).
 */
export function shapeChild(node: ShapeNode, key: string, buf: Uint8Array, s: number, e: number): ShapeNode | undefined {
  const kids = node.children;
  for (const kid of kids) if (kid.key === key && sameBytes(kid.enc, buf, s, e)) return kid;
  if (kids.length >= MAX_CHILDREN || nodeCount >= MAX_NODES || node.depth >= MAX_KEYS) return undefined;
  // A copy, so that the trie keeps no read buffer alive.
  const kid = new ShapeNode(key, Uint8Array.from(buf.subarray(s, e)), node, node.depth + 1);
  kids.push(kid);
  nodeCount++;
  return kid;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, s: number, e: number): boolean {
  if (a.length !== e - s) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[s + i]) return false;
  return true;
}

/** Make (once) the builder for dicts ending at `node`; undefined if none can be made. */
export function shapeBuilder(node: ShapeNode): DictBuilder | undefined {
  if (node.build !== undefined || node.noBuild) return node.build;
  if (!buildersAllowed || builderCount >= MAX_BUILDERS) {
    node.noBuild = true;
    return undefined;
  }
  const keys: string[] = [];
  for (let n: ShapeNode | undefined = node; n !== undefined && n.parent !== undefined; n = n.parent) keys.push(n.key);
  keys.reverse();
  // A literal `"__proto__": x` would set the prototype; the computed form defines a property.
  const props = keys.map((k, i) => `${k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)}: v[b + ${i}]`);
  try {
    // One object literal per key sequence (see above).
    node.build = new Function('v', 'b', `return { ${props.join(', ')} };`) as DictBuilder;
    builderCount++;
  } catch {
    buildersAllowed = false;
    node.noBuild = true;
  }
  return node.build;
}
