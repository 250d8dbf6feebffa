// Kubernetes resource quantities (`30Gi`, `500M`, `1e9`, `1.5Ti`) to bytes, and bytes to whole GiB.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

export const GiB = 2 ** 30;

/** Bytes of a quantity string, or undefined when it is not one. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const m = QUANTITY.exec(text.trim());
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  const mult = BINARY[suffix] ?? DECIMAL[suffix];
  return mult === undefined ? undefined : n * mult;
}

/** Whole GiB, rounded up: 30Gi → 30, 1G → 1, 31Gi+1 byte → 32. Never less than 1. */
export function roundUpGiB(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / GiB - 1e-12));
}

/** `30Gi` for a PV's capacity. */
export function gibQuantity(gib: number): string {
  return `${gib}Gi`;
}
