// Names the eni-operator shares with its users: the EniPool kind as the runtime addresses it, the pod
// annotations (the node data plane's contract), the finalizer and labels.
import { ENI_POOL, POD_IP_ANNOTATION } from '@kube-iaas/crds';

export const OPERATOR_NAME = 'eni-operator';

export const ENI_POOL_RESOURCE = {
  apiVersion: ENI_POOL.apiVersion,
  kind: ENI_POOL.kind,
  plural: ENI_POOL.plural,
  namespaced: false,
} as const;

export const FINALIZER = ENI_POOL.finalizer;

/** The pod's address (the node simulator and the data plane read it). */
export const IP_ANNOTATION = POD_IP_ANNOTATION;
/** What the node data plane needs besides the address: ENI, device index, policy-routing table. */
export const ENI_ANNOTATION = 'network.kube-iaas.dev/eni';
export const DEVICE_INDEX_ANNOTATION = 'network.kube-iaas.dev/device-index';
export const ROUTE_TABLE_ANNOTATION = 'network.kube-iaas.dev/route-table';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kube-iaas-eni-operator';

/** Node labels carrying the instance type (current and beta names). */
export const INSTANCE_TYPE_LABELS = ['node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type'] as const;

/** The condition (True) of a pool that does not hold the instance it names; its message names the holder. */
export const CONFLICT_CONDITION = 'Conflict';
