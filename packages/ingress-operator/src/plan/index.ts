export * from './types.ts';
export { desiredState, ownerOf, ALB_KIND } from './desired.ts';
export type { DesiredInputs, PlanError } from './desired.ts';
export { planChanges, planDeletion, describeAction, replacementReason, healthCheckDiffers, backendKey } from './diff.ts';
export { loadBalancerName, targetGroupName, securityGroupName } from './names.ts';
export { observedStatus, servingLoadBalancer, isComplete } from './status.ts';
export type { ObservedStatus } from './status.ts';
