// The list of kinds: adding a kind means adding its module here and running `npm run generate`.
import { applicationLoadBalancerSource } from './application-load-balancer.ts';
import { awsVolumeSource } from './aws-volume.ts';
import type { KindSource } from './common.ts';
import { eniPoolSource } from './eni-pool.ts';
import { networkLoadBalancerSource } from './network-load-balancer.ts';
import { nodeGroupSource } from './node-group.ts';

/** Every kind, in a fixed order (the order of all.yaml and of the generated types). */
export const KIND_SOURCES: readonly KindSource[] = [
  awsVolumeSource,
  eniPoolSource,
  networkLoadBalancerSource,
  applicationLoadBalancerSource,
  nodeGroupSource,
];

export { awsVolumeSource, eniPoolSource, networkLoadBalancerSource, applicationLoadBalancerSource, nodeGroupSource };
