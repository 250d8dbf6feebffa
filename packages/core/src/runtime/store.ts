import { objectKey, type KubeObject } from './types.ts';

/** Maps an object to the index values it is filed under (e.g. a Pod to `[spec.nodeName]`). */
export type IndexFunc<T> = (obj: T) => Iterable<string | undefined | null> | string | undefined | null;

/**
 * An in-memory object store keyed by `namespace/name`, with named secondary indexes kept up to
 * date on every upsert and delete.
 */
export class IndexedStore<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    for (const [name, fn] of Object.entries(indexers)) this.addIndex(name, fn);
  }

  /** Adds an index; existing objects are indexed at once. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`index ${name} already exists`);
    this.#indexers.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.#indices.set(name, idx);
    for (const [key, obj] of this.#items) for (const v of indexValues(fn, obj)) addTo(idx, v, key);
  }

  /** The function behind index `name`, if there is one. */
  indexFunc(name: string): IndexFunc<T> | undefined {
    return this.#indexers.get(name);
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** All objects, or those of one namespace. */
  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const obj of this.#items.values()) {
      if (namespace === undefined || obj.metadata?.namespace === namespace) out.push(obj);
    }
    return out;
  }

  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const idx = this.#indices.get(name);
    if (!idx) throw new Error(`no index named ${name}`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.#items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** Keys filed under `value` in index `name`. */
  indexKeys(name: string, value: string): string[] {
    const idx = this.#indices.get(name);
    if (!idx) throw new Error(`no index named ${name}`);
    return [...(idx.get(value) ?? [])];
  }

  /** The distinct values present in an index. */
  indexValues(name: string): string[] {
    const idx = this.#indices.get(name);
    if (!idx) throw new Error(`no index named ${name}`);
    return [...idx.keys()];
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indices.get(name)!;
      for (const v of indexValues(fn, obj)) addTo(idx, v, key);
    }
    return old;
  }

  /** Removes by key; returns the removed object. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  clear(): void {
    this.#items.clear();
    for (const idx of this.#indices.values()) idx.clear();
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indices.get(name)!;
      for (const v of indexValues(fn, obj)) {
        const set = idx.get(v);
        if (!set) continue;
        set.delete(key);
        if (set.size === 0) idx.delete(v);
      }
    }
  }
}

function indexValues<T>(fn: IndexFunc<T>, obj: T): string[] {
  const r = fn(obj);
  if (r === undefined || r === null) return [];
  if (typeof r === 'string') return [r];
  const out: string[] = [];
  for (const v of r) if (typeof v === 'string') out.push(v);
  return out;
}

function addTo(idx: Map<string, Set<string>>, value: string, key: string): void {
  let set = idx.get(value);
  if (!set) {
    set = new Set();
    idx.set(value, set);
  }
  set.add(key);
}
