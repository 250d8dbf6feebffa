// @kube-iaas/lb-operator: LoadBalancer Services become NLBs through the NetworkLoadBalancer resource.
export * from './constants.ts';
export * from './translate/index.ts';
export * from './plan/index.ts';
export { observedStatus } from './plan/status.ts';
export { LbOperator, lbFlags } from './operator.ts';
export type { LbOperatorOptions } from './operator.ts';
