// Storage sizes: bytes of a Kubernetes quantity (core's parser, one grammar for every operator) and
// whole GiB, which is how EBS sizes volumes.
import { parseQuantity as parseCoreQuantity } from '@kube-iaas/core/quantity';

export const GiB = 2 ** 30;

/** Bytes of a quantity (`30Gi`, `500M`, `1e9`), or undefined when it is missing or not one. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseCoreQuantity(text);
  } catch {
    return undefined;
  }
}

/** Whole GiB, rounded up: 30Gi → 30, 1G → 1, 31Gi+1 byte → 32. Never less than 1. */
export function roundUpGiB(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / GiB - 1e-12));
}

/** `30Gi` for a PV's capacity. */
export function gibQuantity(gib: number): string {
  return `${gib}Gi`;
}
