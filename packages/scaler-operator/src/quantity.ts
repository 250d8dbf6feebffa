// Quantities are parsed by core (one parser for every operator); this module adds the planner's
// arithmetic on resource amounts and keeps the short names the planner code reads best with.
import type { ResourceAmounts } from '@kube-iaas/core/quantity';

export {
  QuantityError,
  parseQuantity,
  resourceAmount,
  resourceAmounts as toResources,
  formatResourceAmount as formatAmount,
  formatResourceAmounts as formatResources,
} from '@kube-iaas/core';

/**
 * Resource amounts in the planner's units: `cpu` in millicores, every other resource in its base
 * unit (bytes for memory / ephemeral-storage / hugepages, a count for pods and extended resources).
 */
export type Resources = ResourceAmounts;

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
