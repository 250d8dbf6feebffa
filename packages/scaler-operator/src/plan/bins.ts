/**
 * Bins (nodes being filled) for first-fit packing, with a max-segment tree over their free amounts:
 * "the first bin at or after i where one more pod fits" costs O(log bins) instead of a scan of every
 * bin, which is what made packing thousands of pods onto hundreds of new nodes quadratic.
 *
 * Amounts are vectors over the plan's resource dimensions (see `ClassTable.dims`); a pod's `need` only
 * counts the dimensions it requests (`active`). The arithmetic is the same as `pack.ts`'s, so a plan
 * made with bins is the one the scan would make.
 */
export class BinSet {
  readonly #dims: number;
  /** Leaves in the tree (a power of two). */
  #cap = 0;
  /** Node k's maximum free amount of dimension d at `k * dims + d`; leaves from `cap`. */
  #tree = new Float64Array(0);
  length = 0;

  constructor(dims: number, hint = 16) {
    this.#dims = dims;
    this.#grow(Math.max(1, hint));
  }

  #grow(min: number): void {
    let cap = 1;
    while (cap < min) cap *= 2;
    const D = this.#dims;
    const tree = new Float64Array(2 * cap * D).fill(-Infinity);
    for (let i = 0; i < this.length; i++) for (let d = 0; d < D; d++) tree[(cap + i) * D + d] = this.#tree[(this.#cap + i) * D + d]!;
    this.#cap = cap;
    this.#tree = tree;
    for (let k = cap - 1; k >= 1; k--) this.#pull(k);
  }

  #pull(k: number): void {
    const D = this.#dims;
    const t = this.#tree;
    for (let d = 0; d < D; d++) {
      const a = t[2 * k * D + d]!;
      const b = t[(2 * k + 1) * D + d]!;
      t[k * D + d] = a > b ? a : b;
    }
  }

  #update(i: number): void {
    for (let k = (this.#cap + i) >> 1; k >= 1; k >>= 1) this.#pull(k);
  }

  /** Adds a bin with these free amounts; returns its index. */
  open(free: ArrayLike<number>): number {
    if (this.length === this.#cap) this.#grow(this.#cap * 2);
    const i = this.length++;
    const D = this.#dims;
    for (let d = 0; d < D; d++) this.#tree[(this.#cap + i) * D + d] = free[d] ?? 0;
    this.#update(i);
    return i;
  }

  free(i: number, d: number): number {
    return this.#tree[(this.#cap + i) * this.#dims + d]!;
  }

  /** How many pods needing `need` fit in bin i (as `pack.ts`'s `howMany`). */
  howMany(i: number, need: Float64Array, active: readonly number[]): number {
    let n = Infinity;
    const base = (this.#cap + i) * this.#dims;
    for (const d of active) {
      n = Math.min(n, Math.floor(this.#tree[base + d]! / need[d]!));
      if (n <= 0) return 0;
    }
    return n;
  }

  take(i: number, need: Float64Array, active: readonly number[], count: number): void {
    const base = (this.#cap + i) * this.#dims;
    for (const d of active) this.#tree[base + d] = this.#tree[base + d]! - need[d]! * count;
    this.#update(i);
  }

  #covers(k: number, need: Float64Array, active: readonly number[]): boolean {
    const base = k * this.#dims;
    for (const d of active) if (this.#tree[base + d]! < need[d]!) return false;
    return true;
  }

  /** The first bin at or after `from` where one more pod needing `need` fits; -1 when none. */
  firstFit(need: Float64Array, active: readonly number[], from = 0): number {
    if (from >= this.length) return -1;
    if (active.length === 0) return from;
    // walk down from the root, leftmost first; a subtree is entered only if it lies (partly) at or
    // after `from` and its maxima could hold the pod, and on a dead end we climb to the next right sibling
    const cap = this.#cap;
    let k = 1;
    let lo = 0;
    let size = cap;
    for (;;) {
      if (lo + size > from && lo < this.length && this.#covers(k, need, active)) {
        if (size === 1) return lo;
        k *= 2;
        size /= 2;
        continue;
      }
      // next subtree to the right: climb while we are a right child
      while (k & 1) {
        k >>= 1;
        size *= 2;
        lo -= size / 2;
        if (k === 0) return -1;
      }
      if (k === 0) return -1;
      k += 1;
      lo += size;
    }
  }
}
