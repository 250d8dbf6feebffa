// The AWS I/O of the ingress-operator: read the actual state of one ApplicationLoadBalancer, run a plan
// (both packages/elbv2's), resolve the environment (VPC, subnets, security groups), and keep an owner-tag
// inventory of ALBs and target groups.
export { readActual, type ReadInputs } from './read.ts';
export { applyPlan, isStillInUse, targetGroupNameOf, toActionModel as toRuleAction, type ApplyContext, type ApplyResult, type AppliedLoadBalancer } from '@kube-iaas/elbv2';
export { AwsEnvironment, ResolveError, type EnvironmentOptions } from './environment.ts';
export { Inventory } from './inventory.ts';
