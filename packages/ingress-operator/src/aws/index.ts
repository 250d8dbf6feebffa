// The AWS I/O of the ingress-operator, with the same shape as the lb-operator's: read the actual state of
// one ApplicationLoadBalancer by owner tags, run a plan's actions through the guarded clients, resolve the
// environment (VPC, subnets, security groups), and keep an owner-tag inventory of ALBs and target groups.
export { readActual, toRuleAction, targetGroupNameOf, type ReadInputs } from './read.ts';
export { applyPlan, isStillInUse, type ApplyContext, type ApplyResult, type AppliedLoadBalancer } from './apply.ts';
export { AwsEnvironment, ResolveError, type EnvironmentOptions } from './environment.ts';
export { Inventory } from './inventory.ts';
