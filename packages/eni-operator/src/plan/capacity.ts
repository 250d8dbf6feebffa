// The article's capacity formula, from core's instance-type facts: N ENIs × M IPs − N pod addresses,
// N × (M − 1) + 2 kubelet max-pods. `maxPodAddresses` in the spec can only lower it.
import { maxPods, podAddressCapacity, type EniLimits } from '@kube-iaas/core/instance-types';
import type { EniPoolCapacity } from '@kube-iaas/crds';

export interface PoolCapacity extends Required<EniPoolCapacity> {
  /** Addresses the pool may hold: podAddresses, lowered by spec.maxPodAddresses. */
  limit: number;
}

export function capacityOf(limits: EniLimits, maxPodAddresses?: number): PoolCapacity {
  const podAddresses = podAddressCapacity(limits);
  return {
    maxEnis: limits.maxEnis,
    ipsPerEni: limits.ipv4PerEni,
    podAddresses,
    maxPods: maxPods(limits),
    limit: maxPodAddresses === undefined ? podAddresses : Math.min(podAddresses, maxPodAddresses),
  };
}
