// Which Services this operator serves. Everything else is left alone, so it can run beside other
// load-balancer controllers (the cloud provider, the AWS Load Balancer Controller).
import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATIONS, LOAD_BALANCER_CLASS, NLB_TYPE_VALUE } from '../constants.ts';

/** How a Service was selected; decides the default scheme. */
export type SelectedBy = 'class' | 'annotation';

/**
 * `class` when `type: LoadBalancer` and `spec.loadBalancerClass: kube-iaas.dev/nlb`; `annotation`
 * when `type: LoadBalancer`, no class, and `service.beta.kubernetes.io/aws-load-balancer-type: nlb`;
 * otherwise undefined (not ours).
 */
export function selectService(svc: V1Service): SelectedBy | undefined {
  if (svc.spec?.type !== 'LoadBalancer') return undefined;
  const cls = svc.spec.loadBalancerClass;
  if (cls) return cls === LOAD_BALANCER_CLASS ? 'class' : undefined;
  const type = svc.metadata?.annotations?.[ANNOTATIONS.type];
  return type?.trim().toLowerCase() === NLB_TYPE_VALUE ? 'annotation' : undefined;
}
