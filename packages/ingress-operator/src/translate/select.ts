// Which Ingresses this operator serves. Everything else is left alone, so it can run beside other
// ingress controllers (ingress-nginx, the AWS Load Balancer Controller with class alb-aws, …).
import { DEFAULT_CLASS_ANNOTATION, INGRESS_CONTROLLER, LEGACY_CLASS_ANNOTATION, INGRESS_CLASS_NAME } from '../constants.ts';
import type { IngressClassLike, IngressLike } from './types.ts';

/** How an Ingress was selected. */
export type SelectedBy = 'class' | 'annotation' | 'default-class';

/** IngressClasses whose controller is ours. */
export function ourClasses(classes: readonly IngressClassLike[]): IngressClassLike[] {
  return classes.filter((c) => c.spec?.controller === INGRESS_CONTROLLER);
}

/**
 * `class` when spec.ingressClassName names an IngressClass with controller kube-iaas.dev/alb;
 * `annotation` when no class name is set and `kubernetes.io/ingress.class: alb`; `default-class` when
 * neither is set and our IngressClass is the cluster default; otherwise undefined (not ours).
 */
export function selectIngress(ing: IngressLike, classes: readonly IngressClassLike[]): SelectedBy | undefined {
  const ours = ourClasses(classes);
  const className = ing.spec?.ingressClassName;
  if (className) return ours.some((c) => c.metadata?.name === className) ? 'class' : undefined;
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return legacy.trim() === INGRESS_CLASS_NAME ? 'annotation' : undefined;
  const isDefault = ours.some((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  return isDefault ? 'default-class' : undefined;
}
