// @kube-iaas/eni-operator: each Node's EniPool keeps VPC addresses ready and hands them to pods.
export * from './constants.ts';
export * from './translate/index.ts';
export * from './plan/index.ts';
export { EniOperator, eniFlags } from './operator.ts';
export type { EniOperatorOptions } from './operator.ts';
