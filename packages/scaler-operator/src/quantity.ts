// TODO(core): move to core — a Kubernetes quantity parser shared by every operator that reads
// resource requests (scaler, eni-operator's pod accounting). Proposed: packages/core/src/runtime/quantity.ts
// `parseQuantity(q: string | number): number` (base units) and `parseCpuMillis(q): number`.

/**
 * Resource amounts in the planner's units: `cpu` in millicores, every other resource in its base
 * unit (bytes for memory / ephemeral-storage / hugepages, a count for pods and extended resources).
 */
export type Resources = Record<string, number>;

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

/** A Kubernetes quantity (`500m`, `2`, `4Gi`, `1e3`) in base units. Throws `QuantityError`. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new QuantityError(`not a quantity: ${q}`);
    return q;
  }
  const m = QUANTITY.exec(q.trim());
  if (!m?.[1]) throw new QuantityError(`not a quantity: ${JSON.stringify(q)}`);
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * (SUFFIX[m[3] ?? ''] ?? 1);
}

/** One resource's amount in planner units (`cpu` → millicores, rounded up; others rounded up to integers). */
export function resourceAmount(name: string, q: string | number): number {
  const v = parseQuantity(q);
  return name === 'cpu' ? Math.ceil(v * 1000 - 1e-9) : Math.ceil(v - 1e-9);
}

/** A map of quantities (a pod's requests, a node's allocatable) in planner units. */
export function toResources(map: Readonly<Record<string, string | number>> | undefined): Resources {
  const out: Resources = {};
  for (const [k, v] of Object.entries(map ?? {})) out[k] = resourceAmount(k, v);
  return out;
}

/** Planner units back to quantities, for status and messages (`1900m`, `3584Mi`, `29`). */
export function formatAmount(name: string, v: number): string {
  if (name === 'cpu') return v % 1000 === 0 ? String(v / 1000) : `${v}m`;
  if (name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-')) {
    if (v % 2 ** 30 === 0 && v !== 0) return `${v / 2 ** 30}Gi`;
    if (v % 2 ** 20 === 0 && v !== 0) return `${v / 2 ** 20}Mi`;
    if (v % 2 ** 10 === 0 && v !== 0) return `${v / 2 ** 10}Ki`;
  }
  return String(v);
}

export function formatResources(r: Resources): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = formatAmount(k, r[k]!);
  return out;
}

export function addResources(a: Resources, b: Resources): Resources {
  const out: Resources = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** a − b, never below zero. */
export function subtractResources(a: Resources, b: Resources): Resources {
  const out: Resources = { ...a };
  for (const [k, v] of Object.entries(b)) if (k in out) out[k] = Math.max(0, out[k]! - v);
  return out;
}

export function maxResources(a: Resources, b: Resources): Resources {
  const out: Resources = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}
