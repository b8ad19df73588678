/**
 * `mitmts flows --schema`: the shape of JSON bodies, inferred from examples and merged. A shape
 * prints compactly, in a notation close to TypeScript's that a person or a model reads at a
 * glance:
 * - a primitive as its type name: `"string"`, `"integer"`, `"number"`, `"boolean"`, `"null"`;
 *   strings that always match a format as `"string(uuid)"`, `"string(date-time)"`,
 *   `"string(uri)"`, `"string(email)"`; alternatives joined: `"string|null"`;
 * - an object as an object of its keys' shapes; a key missing from some examples ends in `?`;
 *   keys that are ids (numbers, UUIDs, long hex) merge into one key `{id}` (a map);
 * - a list as a one-item list of its items' merged shape (`[]` when only empty lists were seen);
 * - an object or list that is sometimes something else as `{"oneOf": [...]}`.
 */
import { isIdSegment } from './endpoints.js';
import type { JsonObject, JsonValue } from './json.js';

type Prim = 'null' | 'boolean' | 'integer' | 'number' | 'string';

const FORMATS: ReadonlyArray<[name: string, test: RegExp]> = [
  ['uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i],
  ['date-time', /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/],
  ['date', /^\d{4}-\d{2}-\d{2}$/],
  ['uri', /^[a-z][a-z0-9+.-]*:\/\/\S+$/i],
  ['email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/],
];

function formatOf(s: string): string | null {
  for (const [name, re] of FORMATS) if (re.test(s)) return name;
  return null;
}

/** Deepest level merged; below it a shape is "…". */
const MAX_DEPTH = 24;
/** Most distinct keys kept per object (the rest are counted under `…`). */
const MAX_KEYS = 200;

/** A merged shape: how often each kind of value was seen at this place. */
export class Shape {
  /** Values merged here. */
  n = 0;
  private readonly prims = new Map<Prim, number>();
  /** `undefined`: no string seen yet; `null`: strings of mixed (or no) format. */
  private format: string | null | undefined;
  private objects = 0;
  private props: Map<string, Shape> | null = null;
  private droppedKeys = 0;
  private arrays = 0;
  private items: Shape | null = null;

  /** Merge one example value. */
  add(v: JsonValue, depth = 0): void {
    this.n++;
    if (depth >= MAX_DEPTH) return;
    if (v === null) return this.prim('null');
    switch (typeof v) {
      case 'boolean':
        return this.prim('boolean');
      case 'number':
        return this.prim(Number.isInteger(v) ? 'integer' : 'number');
      case 'string': {
        this.prim('string');
        const f = formatOf(v);
        this.format = this.format === undefined ? f : this.format === f ? f : null;
        return;
      }
    }
    if (Array.isArray(v)) {
      this.arrays++;
      for (const item of v) (this.items ??= new Shape()).add(item, depth + 1);
      return;
    }
    this.objects++;
    const props = (this.props ??= new Map());
    const seen = new Set<string>();
    for (const key of Object.keys(v)) {
      const k = isIdSegment(key) ? '{id}' : key;
      let child = props.get(k);
      if (child === undefined) {
        if (props.size >= MAX_KEYS) {
          this.droppedKeys++;
          continue;
        }
        props.set(k, (child = new Shape()));
      }
      // An id-keyed map counts once per object towards "present", however many ids it has.
      if (seen.has(k)) child.n--;
      seen.add(k);
      child.add((v as JsonObject)[key]!, depth + 1);
    }
  }

  private prim(p: Prim): void {
    this.prims.set(p, (this.prims.get(p) ?? 0) + 1);
  }

  /** The printed form (see the module comment). */
  toJson(depth = 0): JsonValue {
    if (depth >= MAX_DEPTH) return '…';
    const names: string[] = [];
    const has = (p: Prim): boolean => (this.prims.get(p) ?? 0) > 0;
    if (has('string')) names.push(this.format ? `string(${this.format})` : 'string');
    if (has('integer') && has('number')) names.push('number');
    else if (has('integer')) names.push('integer');
    else if (has('number')) names.push('number');
    if (has('boolean')) names.push('boolean');
    if (has('null')) names.push('null');
    const structs: JsonValue[] = [];
    if (this.objects > 0) {
      const o: JsonObject = {};
      for (const [k, child] of this.props ?? []) o[child.n < this.objects ? `${k}?` : k] = child.toJson(depth + 1);
      if (this.droppedKeys > 0) o['…'] = `+${this.droppedKeys} more keys`;
      structs.push(o);
    }
    if (this.arrays > 0) structs.push(this.items === null ? [] : [this.items.toJson(depth + 1)]);
    if (structs.length === 0) return names.join('|') || 'unknown';
    if (structs.length === 1 && names.length === 0) return structs[0]!;
    return { oneOf: [...structs, ...names] };
  }
}
