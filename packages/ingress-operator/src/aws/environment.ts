// The VPC and its CIDR, subnets (role tags or named), security groups named in the spec, and the
// cluster-tagged node security groups: core's AwsEnvironment, the same one the lb-operator uses.
export { AwsEnvironment, ResolveError, type EnvironmentOptions } from '@kube-iaas/core';
