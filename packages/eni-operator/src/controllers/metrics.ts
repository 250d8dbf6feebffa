// The eni-operator's own metrics, on core's shared registry.
import { counter, gauge, histogram } from '@kube-iaas/core/metrics';

export const poolMetrics = {
  addresses: gauge({ name: 'kube_iaas_eni_pool_addresses', help: 'Secondary addresses of a node\'s pool by state (used, free, cooling).', labelNames: ['node', 'state'] }),
  enis: gauge({ name: 'kube_iaas_eni_pool_enis', help: 'ENIs attached to a node, the primary included.', labelNames: ['node'] }),
  waiting: gauge({ name: 'kube_iaas_eni_pool_waiting_pods', help: 'Pods on a node waiting for an address.', labelNames: ['node'] }),
  actions: counter({ name: 'kube_iaas_eni_pool_actions_total', help: 'Pool changes made in AWS, by op (createEni, assignIps, unassignIps, deleteEni).', labelNames: ['op'] }),
  allocationLatency: histogram({
    name: 'kube_iaas_eni_allocation_seconds',
    help: 'Operator time of an allocation: from the pod seen bound by the informer to its address annotation acknowledged. path=warm: a free address was recorded; grown: the pod waited for the pool to grow.',
    labelNames: ['path'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  grants: counter({
    name: 'kube_iaas_eni_grants_total',
    help: 'Address annotations written to pods, by mode: annotate-first (the sole leader annotates, then records) or record-first (recorded with an optimistic write, then annotated; leader election off).',
    labelNames: ['mode'],
  }),
  pendingConflicts: counter({ name: 'kube_iaas_eni_pending_conflicts_total', help: 'Grants annotated before being recorded that the record contradicted (another writer took the address); the pod got a new address.' }),
  statusConflicts: counter({ name: 'kube_iaas_eni_status_conflicts_total', help: 'EniPool status writes refused with 409 (another writer was first) and computed again.' }),
  leakedEnis: counter({ name: 'kube_iaas_eni_leaked_enis_deleted_total', help: 'Leaked ENIs of this cluster deleted.' }),
};
