/**
 * Kubernetes resource quantities (`500m`, `2`, `4Gi`, `1e3`), for every operator that reads pod
 * requests, node allocatable or quantity-valued tags and annotations.
 */

/**
 * Resource amounts in integer units: `cpu` in millicores, every other resource in its base unit
 * (bytes for memory / ephemeral-storage / hugepages, a count for pods and extended resources).
 */
export type ResourceAmounts = Record<string, number>;

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

// The API server's grammar: a signed decimal, then a binary SI suffix, a decimal SI suffix or a decimal exponent.
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

/** A quantity in base units (`500m` → 0.5, `4Gi` → 4294967296). Throws `QuantityError` naming the input. */
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

/** A CPU quantity in millicores, rounded up as the scheduler does (`1.5` → 1500, `0.1m` → 1). */
export function parseCpuMillis(q: string | number): number {
  // the epsilon keeps binary floating point from turning 0.3 × 1000 into 301
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

/** One resource's amount in integer units: `cpu` in millicores, others rounded up to whole base units. */
export function resourceAmount(name: string, q: string | number): number {
  return name === 'cpu' ? parseCpuMillis(q) : Math.ceil(parseQuantity(q) - 1e-9);
}

/** A map of quantities (a container's requests, a node's allocatable) in integer units. Throws `QuantityError`. */
export function resourceAmounts(map: Readonly<Record<string, string | number>> | undefined): ResourceAmounts {
  const out: ResourceAmounts = {};
  for (const [k, v] of Object.entries(map ?? {})) out[k] = resourceAmount(k, v);
  return out;
}

/** An amount back to the quantity users read (`1900m`, `3584Mi`, `29`), for status and messages. */
export function formatResourceAmount(name: string, v: number): string {
  if (name === 'cpu') return v % 1000 === 0 ? String(v / 1000) : `${v}m`;
  if (name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-')) {
    if (v % 2 ** 30 === 0 && v !== 0) return `${v / 2 ** 30}Gi`;
    if (v % 2 ** 20 === 0 && v !== 0) return `${v / 2 ** 20}Mi`;
    if (v % 2 ** 10 === 0 && v !== 0) return `${v / 2 ** 10}Ki`;
  }
  return String(v);
}

/** Every amount formatted, keys sorted. */
export function formatResourceAmounts(r: Readonly<ResourceAmounts>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = formatResourceAmount(k, r[k]!);
  return out;
}
