// The VPC, subnets and node security groups an NLB is placed in and next to: core's AwsEnvironment,
// shared with the ingress-operator.
export { AwsEnvironment, ResolveError, type EnvironmentOptions } from '@kube-iaas/core';
