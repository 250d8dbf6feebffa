// Names the lb-operator shares with its users: the load balancer class, the annotations (the AWS cloud
// provider's and the AWS Load Balancer Controller's names, unchanged), the finalizer and labels.
import { NETWORK_LOAD_BALANCER } from '@kube-iaas/crds';

export const OPERATOR_NAME = 'lb-operator';

/** `spec.loadBalancerClass` that selects this operator. */
export const LOAD_BALANCER_CLASS = 'kube-iaas.dev/nlb';

/** One finalizer string on both the Service and the NetworkLoadBalancer. */
export const FINALIZER = NETWORK_LOAD_BALANCER.finalizer;

/** The NetworkLoadBalancer kind as the runtime addresses it. */
export const NLB_RESOURCE = {
  apiVersion: NETWORK_LOAD_BALANCER.apiVersion,
  kind: NETWORK_LOAD_BALANCER.kind,
  plural: NETWORK_LOAD_BALANCER.plural,
  namespaced: true,
} as const;

/** Label on translated NetworkLoadBalancers. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kube-iaas-lb-operator';

/** Node label that keeps a Node out of every load balancer (Kubernetes well-known label). */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

const P = 'service.beta.kubernetes.io/aws-load-balancer-';

/** Every Service annotation the translator reads. */
export const ANNOTATIONS = {
  type: `${P}type`,
  scheme: `${P}scheme`,
  internal: `${P}internal`,
  name: `${P}name`,
  ipAddressType: `${P}ip-address-type`,
  subnets: `${P}subnets`,
  sslCert: `${P}ssl-cert`,
  sslPorts: `${P}ssl-ports`,
  sslNegotiationPolicy: `${P}ssl-negotiation-policy`,
  alpnPolicy: `${P}alpn-policy`,
  backendProtocol: `${P}backend-protocol`,
  targetNodeLabels: `${P}target-node-labels`,
  healthcheckProtocol: `${P}healthcheck-protocol`,
  healthcheckPort: `${P}healthcheck-port`,
  healthcheckPath: `${P}healthcheck-path`,
  healthcheckInterval: `${P}healthcheck-interval`,
  healthcheckTimeout: `${P}healthcheck-timeout`,
  healthcheckHealthyThreshold: `${P}healthcheck-healthy-threshold`,
  healthcheckUnhealthyThreshold: `${P}healthcheck-unhealthy-threshold`,
  healthcheckSuccessCodes: `${P}healthcheck-success-codes`,
  attributes: `${P}attributes`,
  crossZone: `${P}cross-zone-load-balancing-enabled`,
  targetGroupAttributes: `${P}target-group-attributes`,
  proxyProtocol: `${P}proxy-protocol`,
  sourceRanges: `${P}source-ranges`,
  additionalResourceTags: `${P}additional-resource-tags`,
} as const;

/** The value of the `type` annotation that selects this operator (the article's). */
export const NLB_TYPE_VALUE = 'nlb';
