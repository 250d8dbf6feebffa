export * from './types.ts';
export { desiredState, targetInstances, instanceIdOf, ownerOf, NLB_KIND, ruleKey } from './desired.ts';
export type { DesiredInputs, PlanError } from './desired.ts';
export { planChanges, planDeletion, replacementReason, healthCheckDiffers, modelFor } from './diff.ts';
export { loadBalancerName, targetGroupName } from './names.ts';
export { cidrContains } from './cidr.ts';
export { describeAction } from '@kube-iaas/elbv2';
