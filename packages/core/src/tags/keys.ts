/**
 * Every AWS tag key kube-iaas reads or writes. This file is the only place in the repository that
 * spells them; operators call the builders and filters in `tags.ts` instead of writing keys.
 *
 * Where a key already has a meaning in the Kubernetes-on-AWS world (cloud provider, EBS CSI driver,
 * VPC CNI, cluster autoscaler) we keep that key so a cluster can switch over without re-tagging.
 */

/** `kubernetes.io/cluster/<cluster>` = `owned` | `shared`: the cloud provider's cluster tag. */
export const CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';
/** The pre-1.6 cluster tag, `KubernetesCluster=<cluster>`. Read and written alongside the new one. */
export const LEGACY_CLUSTER_TAG = 'KubernetesCluster';
export const CLUSTER_OWNED = 'owned';
export const CLUSTER_SHARED = 'shared';

/** kube-iaas owner tags: on everything we create; how actual state and orphans are found. */
export const OWNER_CLUSTER_TAG = 'kube-iaas.dev/cluster';
export const OWNER_KIND_TAG = 'kube-iaas.dev/owner-kind';
/** `namespace/name` for namespaced owners, `name` for cluster-scoped ones. */
export const OWNER_TAG = 'kube-iaas.dev/owner';
export const OWNER_UID_TAG = 'kube-iaas.dev/owner-uid';

/** The EC2 console's display name. */
export const NAME_TAG = 'Name';

/** EBS: the keys the in-tree cloud provider and the EBS CSI driver put on dynamic volumes. */
export const PVC_NAME_TAG = 'kubernetes.io/created-for/pvc/name';
export const PVC_NAMESPACE_TAG = 'kubernetes.io/created-for/pvc/namespace';
export const PV_NAME_TAG = 'kubernetes.io/created-for/pv/name';

/** ENIs: the VPC CNI's keys for the instance an ENI was created for and when (leak collection). */
export const ENI_INSTANCE_TAG = 'node.k8s.amazonaws.com/instance_id';
export const ENI_CREATED_AT_TAG = 'node.k8s.amazonaws.com/createdAt';

/** Load balancers: the cloud provider's `namespace/name` of the Service. */
export const SERVICE_NAME_TAG = 'kubernetes.io/service-name';
/** Target groups of an NLB: which Service port (`name` or number) the group serves. */
export const SERVICE_PORT_TAG = 'kube-iaas.dev/service-port';
/** ALBs: `namespace/name` of the Ingress. */
export const INGRESS_NAME_TAG = 'kube-iaas.dev/ingress';

/** Cluster autoscaler auto-discovery and node templates (its names, unchanged). */
export const AUTOSCALER_ENABLED_TAG = 'k8s.io/cluster-autoscaler/enabled';
export const AUTOSCALER_CLUSTER_TAG_PREFIX = 'k8s.io/cluster-autoscaler/';
export const NODE_TEMPLATE_LABEL_PREFIX = 'k8s.io/cluster-autoscaler/node-template/label/';
export const NODE_TEMPLATE_TAINT_PREFIX = 'k8s.io/cluster-autoscaler/node-template/taint/';
export const NODE_TEMPLATE_RESOURCES_PREFIX = 'k8s.io/cluster-autoscaler/node-template/resources/';
export const AUTOSCALING_OPTIONS_PREFIX = 'k8s.io/cluster-autoscaler/node-template/autoscaling-options/';

/** Subnet roles for load balancers. */
export const ROLE_ELB_TAG = 'kubernetes.io/role/elb';
export const ROLE_INTERNAL_ELB_TAG = 'kubernetes.io/role/internal-elb';

/** Prefix of security-group rule descriptions that name their kube-iaas owner. */
export const OWNER_DESCRIPTION_PREFIX = 'kube-iaas.dev';

export function clusterTagKey(cluster: string): string {
  return `${CLUSTER_TAG_PREFIX}${cluster}`;
}

export function autoscalerClusterTagKey(cluster: string): string {
  return `${AUTOSCALER_CLUSTER_TAG_PREFIX}${cluster}`;
}
