import { insufficientResource, placementMismatch, type NodeShape, type PodRequirements } from './match.ts';
import type { Resources } from '../quantity.ts';

/**
 * Pods with identical scheduling needs (requests, selector, affinity, tolerations, volumes) — in
 * practice the replicas of one workload. The planner matches and packs a class at once, so its cost
 * grows with the number of distinct workloads, not of pods.
 */
export interface PodClass {
  signature: string;
  sample: PodRequirements;
  /** Keys of the pods still to place, in a stable order. */
  pods: string[];
}

/** `k=v,k=v` over the sorted keys. */
function sortedPairs(o: Readonly<Record<string, string | number>>): string {
  const keys = Object.keys(o);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  let out = '';
  for (let i = 0; i < keys.length; i++) out += `${i ? ',' : ''}${keys[i]}=${o[keys[i]!]}`;
  return out;
}

/** `requests|selector|affinity|tolerations|volumes`; the empty cases skip JSON.stringify (this runs once per pending pod). */
export function podSignature(p: PodRequirements): string {
  const aff = p.affinity ? JSON.stringify(p.affinity) : 'null';
  const tol = p.tolerations.length ? JSON.stringify(p.tolerations) : '[]';
  const vol = p.volumeAffinity.length ? JSON.stringify(p.volumeAffinity) : '[]';
  return `${sortedPairs(p.requests)}|${sortedPairs(p.nodeSelector)}|${aff}|${tol}|${vol}`;
}

export function classify(pods: readonly PodRequirements[]): PodClass[] {
  const by = new Map<string, PodClass>();
  for (const p of pods) {
    const sig = podSignature(p);
    let c = by.get(sig);
    if (!c) {
      c = { signature: sig, sample: p, pods: [] };
      by.set(sig, c);
    }
    c.pods.push(p.key);
  }
  return [...by.values()];
}

/** A node being filled: a real node with its free capacity, an upcoming node, or a new one. */
export interface Bin {
  node: NodeShape;
  free: Resources;
  pods: string[];
}

export function newBin(node: NodeShape, used: Resources = {}): Bin {
  const free: Resources = { ...node.allocatable };
  for (const [k, v] of Object.entries(used)) free[k] = (free[k] ?? 0) - v;
  return { node, free, pods: [] };
}

/** How many pods with `requests` fit in `free` (Infinity when nothing is requested). */
export function howMany(requests: Readonly<Resources>, free: Readonly<Resources>): number {
  let n = Infinity;
  for (const [r, need] of Object.entries(requests)) {
    if (need <= 0) continue;
    n = Math.min(n, Math.floor((free[r] ?? 0) / need));
    if (n <= 0) return 0;
  }
  return n;
}

function take(bin: Bin, cls: PodClass, count: number): string[] {
  const placed = cls.pods.splice(0, count);
  for (const [r, need] of Object.entries(cls.sample.requests)) bin.free[r] = (bin.free[r] ?? 0) - need * placed.length;
  bin.pods.push(...placed);
  return placed;
}

/**
 * Size of a class for the decreasing order: its largest share of the reference node's allocatable
 * (dominant resource), so the hardest pods are placed first.
 */
export function dominantShare(requests: Readonly<Resources>, ref: Readonly<Resources>): number {
  let s = 0;
  for (const [r, need] of Object.entries(requests)) {
    if (r === 'pods') continue;
    const cap = ref[r];
    s = Math.max(s, cap && cap > 0 ? need / cap : need > 0 ? Infinity : 0);
  }
  return s;
}

export function sortDecreasing(classes: PodClass[], ref: Readonly<Resources>): PodClass[] {
  return classes
    .map((c) => ({ c, s: dominantShare(c.sample.requests, ref) }))
    .sort((a, b) => b.s - a.s || a.c.signature.localeCompare(b.c.signature))
    .map((x) => x.c);
}

/**
 * First fit of each class (in the given order) into existing bins whose node the class may use.
 * Mutates classes (placed pods are removed) and bins. Returns pod key → bin index.
 */
export function firstFit(classes: readonly PodClass[], bins: Bin[]): number {
  let placed = 0;
  for (const cls of classes) {
    if (cls.pods.length === 0) continue;
    for (const bin of bins) {
      if (cls.pods.length === 0) break;
      const n = Math.min(howMany(cls.sample.requests, bin.free), cls.pods.length);
      if (n <= 0) continue;
      if (placementMismatch(cls.sample, bin.node)) continue;
      placed += take(bin, cls, n).length;
    }
  }
  return placed;
}

/**
 * First-fit decreasing onto new nodes of one shape: fill the bins already opened in this packing
 * first, then open new ones, at most `maxNewBins`. Classes must already fit the shape (checked by the
 * caller). Mutates classes. Returns the opened bins.
 */
export function packNew(classes: readonly PodClass[], shape: NodeShape, maxNewBins: number): Bin[] {
  const bins: Bin[] = [];
  for (const cls of sortDecreasing([...classes], shape.allocatable)) {
    if (cls.pods.length === 0) continue;
    if (insufficientResource(cls.sample.requests, shape.allocatable)) continue;
    for (const bin of bins) {
      if (cls.pods.length === 0) break;
      const n = Math.min(howMany(cls.sample.requests, bin.free), cls.pods.length);
      if (n > 0) take(bin, cls, n);
    }
    const perNode = howMany(cls.sample.requests, shape.allocatable);
    while (cls.pods.length > 0 && bins.length < maxNewBins && perNode > 0) {
      const bin = newBin(shape);
      bins.push(bin);
      take(bin, cls, Math.min(perNode, cls.pods.length));
    }
  }
  return bins;
}
