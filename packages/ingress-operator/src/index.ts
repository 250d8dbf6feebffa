// @kube-iaas/ingress-operator: Ingresses of class alb become ALBs through the ApplicationLoadBalancer resource.
export * from './constants.ts';
export * from './translate/index.ts';
export * from './plan/index.ts';
export { IngressOperator, ingressFlags } from './operator.ts';
export type { IngressOperatorOptions } from './operator.ts';
