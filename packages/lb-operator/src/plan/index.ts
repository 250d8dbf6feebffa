export * from './types.ts';
export { desiredState, targetInstances, instanceIdOf, ownerOf, NLB_KIND, ruleKey } from './desired.ts';
export type { DesiredInputs, PlanError } from './desired.ts';
export { planChanges, planDeletion, describeAction, replacementReason, changedAttributes, healthCheckDiffers } from './diff.ts';
export { loadBalancerName, targetGroupName } from './names.ts';
export { cidrContains } from './cidr.ts';
