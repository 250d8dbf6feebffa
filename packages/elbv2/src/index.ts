// @kube-iaas/elbv2: the ELBv2 model, diff and per-resource deployers shared by the lb-operator
// (NetworkLoadBalancer → NLB) and the ingress-operator (ApplicationLoadBalancer → ALB).
export * from './model.ts';
export * from './changes.ts';
export * from './plan.ts';
export { replacementReason, pickKeep } from './diff/load-balancer.ts';
export { healthCheckDiffers } from './diff/target-groups.ts';
export { listenerDiffers, ruleDiffers } from './diff/listeners.ts';
export { groupRuleKey, pickGroup } from './diff/security-group.ts';
export { nodeRuleKey } from './diff/node-rules.ts';
export { applyPlan } from './deploy/apply.ts';
export { isStillInUse, type ApplyContext, type ApplyResult, type AppliedLoadBalancer } from './deploy/deployment.ts';
export * from './aws/describe.ts';
export * from './aws/actions.ts';
export * from './aws/reads.ts';
export * from './aws/inventory.ts';
export { readActual, targetGroupNameOf, toActionModel, type ReadInputs } from './aws/actual.ts';
export * from './names.ts';
export * from './status.ts';
export * from './sweep.ts';
