// Names the ingress-operator shares with its users: the IngressClass controller, the annotations (the AWS
// Load Balancer Controller's names, unchanged, so manifests carry over) and labels.
import { APPLICATION_LOAD_BALANCER } from '@kube-iaas/crds';

export const OPERATOR_NAME = 'ingress-operator';

/** `spec.controller` of an IngressClass this operator serves. */
export const INGRESS_CONTROLLER = 'kube-iaas.dev/alb';
/** The IngressClass name we ship, and the legacy `kubernetes.io/ingress.class` value that selects us. */
export const INGRESS_CLASS_NAME = 'alb';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export const FINALIZER = APPLICATION_LOAD_BALANCER.finalizer;

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kube-iaas-ingress-operator';

export const ANNOTATION_PREFIX = 'alb.ingress.kubernetes.io/';
const P = ANNOTATION_PREFIX;

/** Every Ingress annotation the translator reads. `actions.<name>` is matched by prefix. */
export const ANNOTATIONS = {
  scheme: `${P}scheme`,
  listenPorts: `${P}listen-ports`,
  subnets: `${P}subnets`,
  securityGroups: `${P}security-groups`,
  manageBackendSecurityGroupRules: `${P}manage-backend-security-group-rules`,
  inboundCidrs: `${P}inbound-cidrs`,
  ipAddressType: `${P}ip-address-type`,
  loadBalancerName: `${P}load-balancer-name`,
  targetType: `${P}target-type`,
  healthcheckPath: `${P}healthcheck-path`,
  healthcheckPort: `${P}healthcheck-port`,
  healthcheckProtocol: `${P}healthcheck-protocol`,
  healthcheckInterval: `${P}healthcheck-interval-seconds`,
  healthcheckTimeout: `${P}healthcheck-timeout-seconds`,
  healthyThreshold: `${P}healthy-threshold-count`,
  unhealthyThreshold: `${P}unhealthy-threshold-count`,
  successCodes: `${P}success-codes`,
  backendProtocol: `${P}backend-protocol`,
  certificateArn: `${P}certificate-arn`,
  sslPolicy: `${P}ssl-policy`,
  sslRedirect: `${P}ssl-redirect`,
  groupName: `${P}group.name`,
  groupOrder: `${P}group.order`,
  tags: `${P}tags`,
  loadBalancerAttributes: `${P}load-balancer-attributes`,
  targetGroupAttributes: `${P}target-group-attributes`,
  actionPrefix: `${P}actions.`,
} as const;

/** Backend port name that means "the action is in the actions.<service name> annotation". */
export const USE_ANNOTATION = 'use-annotation';
