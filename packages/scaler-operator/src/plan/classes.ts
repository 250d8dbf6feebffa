import type { Resources } from '../quantity.ts';
import { placementMismatch, resourceMismatch, type NodeShape, type PodRequirements } from './match.ts';
import { dominantShare, podSignature } from './pack.ts';

/**
 * Pods with identical scheduling needs, packed as counts: the planner moves numbers of pods between
 * classes and bins and names the pods only for the option the expander picks.
 */
export interface CountClass {
  index: number;
  signature: string;
  sample: PodRequirements;
  keys: string[];
  /** Keys before `next` are placed; pods are always taken from the front, as `pack.ts` does. */
  next: number;
  /** Requests as a vector over the table's dimensions, and the dimensions requested. */
  need: Float64Array;
  active: number[];
  /** Position in signature order (the tie-break of the decreasing sort). */
  rank: number;
  /** Index of the class's placement needs (selector, affinity, tolerations, volumes), shared by classes that differ only in requests. */
  placement: number;
}

export function left(c: CountClass): number {
  return c.keys.length - c.next;
}

/** How many pods of the class fit in an amount vector (as `pack.ts`'s `howMany` on the same amounts). */
export function perAmount(c: CountClass, amount: Float64Array): number {
  let n = Infinity;
  for (const d of c.active) {
    n = Math.min(n, Math.floor(amount[d]! / c.need[d]!));
    if (n <= 0) return 0;
  }
  return n;
}

/** The pending pods as classes, with what is computed once per decision rather than per packing. */
export class ClassTable {
  readonly classes: CountClass[] = [];
  /** Resource names that some pod requests (the dimensions of every vector). */
  readonly dims: string[];
  readonly #orders = new Map<string, CountClass[]>();
  readonly #placements = new Map<string, number>();
  /** Per node: placement mismatch by placement index; per group: fit mismatch by class index (null: not yet known). */
  readonly #placementFit = new Map<string, (string | undefined | null)[]>();
  readonly #fit = new Map<string, (string | undefined | null)[]>();

  constructor(pods: readonly PodRequirements[]) {
    const by = new Map<string, CountClass>();
    for (const p of pods) {
      const sig = podSignature(p);
      let c = by.get(sig);
      if (!c) {
        // the signature is `requests|placement needs`
        const placementSig = sig.slice(sig.indexOf('|') + 1);
        let placement = this.#placements.get(placementSig);
        if (placement === undefined) this.#placements.set(placementSig, (placement = this.#placements.size));
        c = { index: this.classes.length, signature: sig, sample: p, keys: [], next: 0, need: new Float64Array(0), active: [], rank: 0, placement };
        by.set(sig, c);
        this.classes.push(c);
      }
      c.keys.push(p.key);
    }
    const dims = new Set<string>();
    for (const c of this.classes) for (const [r, v] of Object.entries(c.sample.requests)) if (v > 0) dims.add(r);
    this.dims = [...dims];
    for (const c of this.classes) {
      c.need = this.vector(c.sample.requests);
      c.active = this.dims.flatMap((r, d) => ((c.sample.requests[r] ?? 0) > 0 ? [d] : []));
    }
    // one locale-aware sort of the signatures, so each decreasing sort compares integers; equal
    // collation keeps first-seen order, as the stable sort on signatures did
    const bySig = [...this.classes].sort((a, b) => a.signature.localeCompare(b.signature));
    let rank = 0;
    for (let i = 0; i < bySig.length; i++) {
      if (i > 0 && bySig[i - 1]!.signature.localeCompare(bySig[i]!.signature) !== 0) rank++;
      bySig[i]!.rank = rank;
    }
  }

  vector(r: Readonly<Resources>, minus?: Readonly<Resources>): Float64Array {
    const v = new Float64Array(this.dims.length);
    this.dims.forEach((name, d) => {
      v[d] = minus && Object.hasOwn(minus, name) ? (r[name] ?? 0) - minus[name]! : (r[name] ?? 0);
    });
    return v;
  }

  /** Every class, hardest first for this reference node (dominant share, then signature). */
  decreasing(ref: Readonly<Resources>): readonly CountClass[] {
    const key = Object.entries(ref)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let order = this.#orders.get(key);
    if (!order) {
      order = this.classes
        .map((c) => ({ c, s: dominantShare(c.sample.requests, ref) }))
        .sort((a, b) => b.s - a.s || a.c.rank - b.c.rank)
        .map((x) => x.c);
      this.#orders.set(key, order);
    }
    return order;
  }

  /**
   * Why the class can never run on this node (cached per `cacheKey` — one node per key — and placement
   * needs); undefined if it can.
   */
  placementMismatch(c: CountClass, node: NodeShape, cacheKey = node.name): string | undefined {
    let row = this.#placementFit.get(cacheKey);
    if (!row) this.#placementFit.set(cacheKey, (row = new Array<null>(this.#placements.size).fill(null)));
    let m = row[c.placement];
    if (m === null) row[c.placement] = m = placementMismatch(c.sample, node);
    return m;
  }

  /**
   * Why the class cannot run on an empty node of the group's template (as `fitMismatch`, cached per
   * group); undefined if it can. Call with one template per group name.
   */
  mismatch(c: CountClass, group: string, shape: NodeShape): string | undefined {
    let row = this.#fit.get(group);
    if (!row) this.#fit.set(group, (row = new Array<null>(this.classes.length).fill(null)));
    let m = row[c.index];
    if (m === null) row[c.index] = m = this.placementMismatch(c, shape, `\0group:${group}`) ?? resourceMismatch(c.sample, shape);
    return m;
  }
}
