// Cluster-wide defaults through IngressClass spec.parameters. We read a ConfigMap (core API, no extra CRD
// to install) whose keys are the annotation names without the alb.ingress.kubernetes.io/ prefix, e.g.
// `scheme: internet-facing`. They are defaults: an Ingress's own annotation wins, so a team can still
// override one setting. The AWS Load Balancer Controller's IngressClassParams kind is not served here.
import { ANNOTATION_PREFIX, DEFAULT_CLASS_ANNOTATION, INGRESS_CLASS_NAME } from '../constants.ts';
import { ourClasses, selectIngress } from './select.ts';
import type { IngressClassLike, IngressLike } from './types.ts';

/** Our IngressClass an Ingress was selected through (legacy annotation: the class named `alb`, if any). */
export function classOf(ing: IngressLike, classes: readonly IngressClassLike[]): IngressClassLike | undefined {
  const ours = ourClasses(classes);
  switch (selectIngress(ing, classes)) {
    case 'class':
      return ours.find((c) => c.metadata?.name === ing.spec?.ingressClassName);
    case 'annotation':
      return ours.find((c) => c.metadata?.name === INGRESS_CLASS_NAME);
    case 'default-class':
      return ours.find((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
    default:
      return undefined;
  }
}

/** Where a class's defaults live, or why they cannot be read. */
export type ParametersRef = { ok: true; namespace: string; name: string } | { ok: false; message: string } | undefined;

/** The ConfigMap an IngressClass's spec.parameters names; undefined when it has none. */
export function parametersRef(cls: IngressClassLike): ParametersRef {
  const p = cls.spec?.parameters;
  if (!p) return undefined;
  const where = `IngressClass ${cls.metadata?.name ?? ''} spec.parameters`;
  if ((p.apiGroup ?? '') !== '' || p.kind !== 'ConfigMap') {
    return { ok: false, message: `${where}: ${p.apiGroup ? `${p.apiGroup}/` : ''}${p.kind} is not supported; point it at a ConfigMap (no apiGroup, kind ConfigMap, scope Namespace)` };
  }
  if (p.scope !== 'Namespace' || !p.namespace) return { ok: false, message: `${where}: a ConfigMap needs scope: Namespace and a namespace` };
  return { ok: true, namespace: p.namespace, name: p.name };
}

/** Checks a defaults ConfigMap's keys: each must be an annotation name without its prefix. */
export function checkDefaults(data: Record<string, string>, known: ReadonlySet<string>, where: string): string[] {
  const bad = Object.keys(data).filter((k) => !known.has(ANNOTATION_PREFIX + k));
  return bad.map((k) => `${where}: unknown key "${k}" (keys are alb.ingress.kubernetes.io/ annotation names without the prefix)`);
}

/** The Ingress as translation sees it: the class defaults under their annotation names, its own annotations over them. */
export function withClassDefaults<T extends IngressLike>(ing: T, defaults: Readonly<Record<string, string>> | undefined): T {
  if (!defaults || Object.keys(defaults).length === 0) return ing;
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries(defaults)) merged[ANNOTATION_PREFIX + k] = v;
  Object.assign(merged, ing.metadata?.annotations ?? {});
  return { ...ing, metadata: { ...ing.metadata, annotations: merged } };
}
