// @kube-iaas/crds: the kube-iaas custom resources — constants, TypeScript types, validators, CRD
// manifests and an installer. See README.md.

// Kind constants (group, version, apiVersion, kind, plural, …) and the limits their schemas encode.
export { AWS_VOLUME, AWS_VOLUME_VERSION, VOLUME_TYPES, VOLUME_TYPE_LIMITS } from './sources/aws-volume.ts';
export type { VolumeTypeLimits } from './sources/aws-volume.ts';
export { ENI_POOL, ENI_POOL_VERSION, POD_IP_ANNOTATION } from './sources/eni-pool.ts';
export {
  NETWORK_LOAD_BALANCER,
  NETWORK_LOAD_BALANCER_VERSION,
  NLB_MAX_LISTENERS,
  NLB_PROTOCOLS,
} from './sources/network-load-balancer.ts';
export {
  NLB_ATTRIBUTES,
  NLB_TARGET_GROUP_ATTRIBUTES,
  attributeValueOk,
  checkAttributes,
  describeAttributeValue,
} from './sources/nlb-attributes.ts';
export type { AttributeProblem, AttributeTable, AttributeValue } from './sources/nlb-attributes.ts';
export {
  APPLICATION_LOAD_BALANCER,
  APPLICATION_LOAD_BALANCER_VERSION,
  ALB_LIMITS,
} from './sources/application-load-balancer.ts';
export { NODE_GROUP, NODE_GROUP_VERSION } from './sources/node-group.ts';
export { CATEGORY, RESERVED_TAG_KEYS, RESERVED_TAG_PREFIXES } from './sources/common.ts';
export type { KindSource, PrinterColumn, Scope } from './sources/common.ts';
export { KIND_SOURCES } from './sources/index.ts';

// Generated TypeScript types for every kind's object, list, spec and status.
export type * from './generated/types.ts';

// Validators for specs that did not pass the API server.
export {
  validateAwsVolumeSpec,
  validateEniPoolSpec,
  validateNetworkLoadBalancerSpec,
  validateApplicationLoadBalancerSpec,
  validateNodeGroupSpec,
} from './generated/validators.ts';
export { createSpecValidator, formatFieldErrors } from './validate.ts';
export type { FieldError, SpecValidator, ValidationResult } from './validate.ts';

// CRD manifests and installation.
export { buildCrd, crdManifests, crdName } from './crd.ts';
export type { CustomResourceDefinition, CrdVersion } from './crd.ts';
export { installCrds } from './install.ts';
export type { InstallCrdsOptions, InstalledCrd } from './install.ts';

import { APPLICATION_LOAD_BALANCER } from './sources/application-load-balancer.ts';
import { AWS_VOLUME } from './sources/aws-volume.ts';
import { ENI_POOL } from './sources/eni-pool.ts';
import { NETWORK_LOAD_BALANCER } from './sources/network-load-balancer.ts';
import { NODE_GROUP } from './sources/node-group.ts';

/** The five kinds' constants, by kind name. */
export const KINDS = {
  AwsVolume: AWS_VOLUME,
  EniPool: ENI_POOL,
  NetworkLoadBalancer: NETWORK_LOAD_BALANCER,
  ApplicationLoadBalancer: APPLICATION_LOAD_BALANCER,
  NodeGroup: NODE_GROUP,
} as const;

export type KindName = keyof typeof KINDS;

// The user-facing ClusterRoles of each kind (generated/user-roles/), aggregated into admin / edit / view.
export { AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW, userRoles } from './user-roles.ts';
export type { ClusterRole, PolicyRule } from './user-roles.ts';
