/**
 * Desired-versus-actual diff helpers shared by the operators. All pure: no I/O, inputs untouched,
 * output order follows the input order (desired first, then actual) so plans are deterministic.
 */

export interface KeyedDiff<D, A> {
  /** Desired, absent from actual. */
  toCreate: D[];
  /** Present on both sides but not equal. */
  toUpdate: { key: string; desired: D; actual: A }[];
  /** Actual, absent from desired. */
  toDelete: A[];
  /** Present on both sides and equal. */
  unchanged: { key: string; desired: D; actual: A }[];
}

type Source<T> = Iterable<T> | ReadonlyMap<string, T> | Readonly<Record<string, T>>;

function entries<T>(src: Source<T>, key: ((item: T) => string) | undefined, side: string): [string, T][] {
  if (src instanceof Map) return [...(src as ReadonlyMap<string, T>).entries()];
  if (typeof (src as Iterable<T>)[Symbol.iterator] === 'function') {
    if (!key) throw new Error(`diffByKey: a key function is needed for the ${side} list`);
    const out: [string, T][] = [];
    const seen = new Set<string>();
    for (const item of src as Iterable<T>) {
      const k = key(item);
      if (seen.has(k)) throw new Error(`diffByKey: duplicate key ${JSON.stringify(k)} in ${side}`);
      seen.add(k);
      out.push([k, item]);
    }
    return out;
  }
  return Object.entries(src as Record<string, T>);
}

/**
 * Compares desired and actual collections by key. Lists need key functions (`key`, or
 * `desiredKey` / `actualKey` when the two sides have different shapes); Maps and plain records use
 * their own keys. `equal` decides update vs unchanged (default: deep JSON equality).
 */
export function diffByKey<D, A = D>(
  desired: Source<D>,
  actual: Source<A>,
  opts: {
    key?: (item: D | A) => string;
    desiredKey?: (item: D) => string;
    actualKey?: (item: A) => string;
    equal?: (desired: D, actual: A) => boolean;
  } = {},
): KeyedDiff<D, A> {
  const d = entries(desired, opts.desiredKey ?? opts.key, 'desired');
  const a = entries(actual, opts.actualKey ?? opts.key, 'actual');
  const equal = opts.equal ?? ((x: D, y: A) => deepEqual(x, y));
  const actualByKey = new Map(a);
  const desiredKeys = new Set<string>();
  const out: KeyedDiff<D, A> = { toCreate: [], toUpdate: [], toDelete: [], unchanged: [] };
  for (const [k, dv] of d) {
    desiredKeys.add(k);
    if (!actualByKey.has(k)) {
      out.toCreate.push(dv);
      continue;
    }
    const av = actualByKey.get(k) as A;
    if (equal(dv, av)) out.unchanged.push({ key: k, desired: dv, actual: av });
    else out.toUpdate.push({ key: k, desired: dv, actual: av });
  }
  for (const [k, av] of a) if (!desiredKeys.has(k)) out.toDelete.push(av);
  return out;
}

export interface SetDiff<T> {
  toAdd: T[];
  toRemove: T[];
  unchanged: T[];
}

/**
 * Set difference for things identified by a key (instance IDs as targets, IPs, security-group
 * IDs). Duplicates collapse to their first occurrence.
 */
export function diffSets<T>(
  desired: Iterable<T>,
  actual: Iterable<T>,
  key: (item: T) => string = (x) => (typeof x === 'string' ? x : JSON.stringify(x)),
): SetDiff<T> {
  const dm = new Map<string, T>();
  for (const x of desired) if (!dm.has(key(x))) dm.set(key(x), x);
  const am = new Map<string, T>();
  for (const x of actual) if (!am.has(key(x))) am.set(key(x), x);
  const out: SetDiff<T> = { toAdd: [], toRemove: [], unchanged: [] };
  for (const [k, x] of dm) (am.has(k) ? out.unchanged : out.toAdd).push(x);
  for (const [k, x] of am) if (!dm.has(k)) out.toRemove.push(x);
  return out;
}

export interface TagDiff {
  /** TagsInput to create or overwrite (new keys and keys whose value differs). */
  toAdd: Record<string, string>;
  /** Keys to delete. */
  toRemove: string[];
  /** True when there is nothing to do. */
  empty: boolean;
}

type TagsInput = Readonly<Record<string, string>> | ReadonlyMap<string, string> | Iterable<{ Key?: string; Value?: string }>;

/**
 * Entries of `desired` whose value differs from `actual` (load-balancer and target-group attributes);
 * keys the desired map does not set are left alone, never reset.
 */
export function changedEntries(desired: Record<string, string>, actual: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired)) if (actual?.[k] !== v) out[k] = v;
  return out;
}

/** Normalises a tag record, a Map, or an AWS `[{ Key, Value }]` list to a record. */
export function toTagRecord(tags: TagsInput | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!tags) return out;
  if (tags instanceof Map) {
    for (const [k, v] of tags) out[k] = v;
    return out;
  }
  if (typeof (tags as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const t of tags as Iterable<{ Key?: string; Value?: string }>) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
    return out;
  }
  return { ...(tags as Record<string, string>) };
}

/**
 * TagsInput to add and remove to turn `actual` into `desired`. Only keys accepted by `prune` are ever
 * removed — by default none, so tags set by people or other tools survive; pass e.g.
 * `prune: (k) => k.startsWith('kube-iaas.dev/')` to drop stale tags of our own. `aws:` tags are
 * never removed (AWS refuses it).
 */
export function diffTags(
  desired: TagsInput | undefined,
  actual: TagsInput | undefined,
  opts: { prune?: (key: string) => boolean } = {},
): TagDiff {
  const d = toTagRecord(desired);
  const a = toTagRecord(actual);
  const prune = opts.prune ?? (() => false);
  const toAdd: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) if (a[k] !== v) toAdd[k] = v;
  const toRemove = Object.keys(a).filter((k) => !(k in d) && !k.startsWith('aws:') && prune(k));
  return { toAdd, toRemove, empty: Object.keys(toAdd).length === 0 && toRemove.length === 0 };
}

/** Structural equality of JSON-like values (objects compared by keys, arrays by order). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!Object.prototype.hasOwnProperty.call(bo, k) || !deepEqual(ao[k], bo[k])) return false;
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * The RFC 7386 JSON merge patch that turns `original` into `modified`, or `undefined` when they
 * are equal. Keys missing from `modified` become `null` (delete); arrays are replaced whole.
 */
export function createMergePatch(original: unknown, modified: unknown): unknown {
  if (deepEqual(original, modified)) return undefined;
  if (!isPlainObject(original) || !isPlainObject(modified)) return modified === undefined ? null : modified;
  const patch: Record<string, unknown> = {};
  for (const [k, mv] of Object.entries(modified)) {
    if (mv === undefined) continue;
    const ov = original[k];
    if (ov === undefined) {
      patch[k] = mv;
      continue;
    }
    const p = createMergePatch(ov, mv);
    if (p !== undefined) patch[k] = p;
  }
  for (const [k, ov] of Object.entries(original)) {
    if (ov !== undefined && (!(k in modified) || modified[k] === undefined)) patch[k] = null;
  }
  return patch;
}

/** Applies an RFC 7386 JSON merge patch; returns a new value, the inputs are not modified. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
