/** Pairs or an object, as accepted by multidict setters. */
export type MultiDictInit<V> = Iterable<readonly [string, V]> | Record<string, V>;

/** Normalize an init value to a fresh array of pairs. */
export function toPairs<V>(init: MultiDictInit<V> | BaseMultiDict<V>): Array<[string, V]> {
  if (init instanceof BaseMultiDict) return init.fields.map(([k, v]) => [k, v]);
  if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return Array.from(init as Iterable<readonly [string, V]>, ([k, v]) => [k, v]);
  }
  return Object.entries(init as Record<string, V>);
}

/**
 * A dictionary with multiple values per key that keeps insertion order, like mitmproxy's
 * `MultiDict`. Subclasses decide how keys compare ({@link kconv}) and which value a plain
 * `get` returns ({@link reduce}).
 */
export abstract class BaseMultiDict<V> implements Iterable<string> {
  /** The underlying `[key, value]` pairs. */
  abstract get fields(): Array<[string, V]>;
  abstract set fields(value: Array<[string, V]>);

  /** Canonical form of a key (identity by default; case-insensitive dicts lowercase). */
  protected kconv(key: string): string {
    return key;
  }

  /** The value `get` returns when a key has several (the first by default). */
  protected reduce(values: V[]): V {
    return values[0]!;
  }

  get(key: string): V | undefined {
    const vals = this.getAll(key);
    return vals.length ? this.reduce(vals) : undefined;
  }

  getAll(key: string): V[] {
    const k = this.kconv(key);
    const out: V[] = [];
    for (const [fk, v] of this.fields) if (this.kconv(fk) === k) out.push(v);
    return out;
  }

  has(key: string): boolean {
    const k = this.kconv(key);
    return this.fields.some(([fk]) => this.kconv(fk) === k);
  }

  set(key: string, value: V): this {
    return this.setAll(key, [value]);
  }

  /** Replace the values of `key` in place; surplus old entries go, extra values are appended. */
  setAll(key: string, values: Iterable<V>): this {
    const k = this.kconv(key);
    const vals = Array.from(values);
    const out: Array<[string, V]> = [];
    let i = 0;
    for (const f of this.fields) {
      if (this.kconv(f[0]) === k) {
        if (i < vals.length) out.push([f[0], vals[i++]!]);
      } else {
        out.push(f);
      }
    }
    for (; i < vals.length; i++) out.push([key, vals[i]!]);
    this.fields = out;
    return this;
  }

  add(key: string, value: V): this {
    return this.insert(this.fields.length, key, value);
  }

  insert(index: number, key: string, value: V): this {
    const f = this.fields.slice();
    const n = f.length;
    const i = index < 0 ? Math.max(0, n + index) : Math.min(index, n);
    f.splice(i, 0, [key, value]);
    this.fields = f;
    return this;
  }

  delete(key: string): boolean {
    const k = this.kconv(key);
    const f = this.fields;
    const kept = f.filter(([fk]) => this.kconv(fk) !== k);
    if (kept.length === f.length) return false;
    this.fields = kept;
    return true;
  }

  /** Keys, once each in first-seen order (or one per value with `multi`). */
  keys(multi = false): string[] {
    return this.items(multi).map(([k]) => k);
  }

  values(multi = false): V[] {
    return this.items(multi).map(([, v]) => v);
  }

  /** `[key, value]` pairs: one per distinct key (reduced), or every pair with `multi`. */
  items(multi = false): Array<[string, V]> {
    const f = this.fields;
    if (multi) return f.map(([k, v]) => [k, v]);
    const seen = new Set<string>();
    const out: Array<[string, V]> = [];
    for (const [k] of f) {
      const c = this.kconv(k);
      if (seen.has(c)) continue;
      seen.add(c);
      out.push([k, this.get(k)!]);
    }
    return out;
  }

  get size(): number {
    return new Set(this.fields.map(([k]) => this.kconv(k))).size;
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  /** A plain object of the reduced values (later keys do not override earlier ones). */
  toObject(): Record<string, V> {
    return Object.fromEntries(this.items());
  }

  toJSON(): Array<[string, V]> {
    return this.items(true);
  }

  /** A standalone copy holding its own pairs. */
  copy(): MultiDict<V> {
    return new MultiDict(this.fields);
  }

  equals(other: BaseMultiDict<V>): boolean {
    const a = this.fields;
    const b = other.fields;
    return a.length === b.length && a.every(([k, v], i) => k === b[i]![0] && v === b[i]![1]);
  }
}

/** A multidict storing its own pairs; keys compare exactly, `get` returns the first value. */
export class MultiDict<V = string> extends BaseMultiDict<V> {
  private _fields: Array<[string, V]>;

  constructor(fields: MultiDictInit<V> = []) {
    super();
    this._fields = toPairs(fields);
  }

  get fields(): Array<[string, V]> {
    return this._fields;
  }

  set fields(value: Array<[string, V]>) {
    this._fields = value;
  }
}

/**
 * A live view over data computed by its owner (query string, cookies, forms): reads call the
 * getter, every change calls the setter with the new pairs, which writes through to the owner
 * (e.g. `request.query.set('a', '1')` rewrites `request.path`).
 */
export class MultiDictView<V = string> extends BaseMultiDict<V> {
  constructor(
    private readonly getter: () => Array<[string, V]>,
    private readonly setter: (fields: Array<[string, V]>) => void,
  ) {
    super();
  }

  get fields(): Array<[string, V]> {
    return this.getter();
  }

  set fields(value: Array<[string, V]>) {
    this.setter(value);
  }
}
