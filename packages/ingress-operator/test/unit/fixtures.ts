// The article's objects (§6): two NodePort Services and the Ingress for test.int32bit.me.
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { INGRESS_CONTROLLER } from '../../src/constants.ts';
import { formatTranslateErrors, groupIngresses, translateGroup } from '../../src/translate/index.ts';
import type { IngressClassLike, IngressLike, IngressPath, ServiceLike } from '../../src/translate/index.ts';

export const CLASSES: IngressClassLike[] = [{ metadata: { name: 'alb' }, spec: { controller: INGRESS_CONTROLLER } }];

export function service(name: string, nodePort: number, opts: { type?: string; portName?: string } = {}): ServiceLike {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { type: opts.type ?? 'NodePort', ports: [{ port: 8080, protocol: 'TCP', nodePort, ...(opts.portName ? { name: opts.portName } : {}) }] },
  };
}

export const SERVICES: ServiceLike[] = [
  service('kubernetes-bootcamp-v1', 31001, { portName: 'http' }),
  service('kubernetes-bootcamp-v2', 31002),
  service('kubernetes-bootcamp-v3', 31003),
];

export function path(p: string, svc: string, pathType = 'Prefix', port: { number?: number; name?: string } = { number: 8080 }): IngressPath {
  return { path: p, pathType, backend: { service: { name: svc, port } } };
}

export function ingress(name: string, opts: { annotations?: Record<string, string>; paths?: IngressPath[]; host?: string; className?: string } = {}): IngressLike {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      annotations: opts.annotations ?? {
        'kubernetes.io/ingress.class': 'alb',
        'alb.ingress.kubernetes.io/scheme': 'internet-facing',
        'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 18080}]',
      },
    },
    spec: {
      ...(opts.className ? { ingressClassName: opts.className } : {}),
      rules: [{ host: opts.host ?? 'test.int32bit.me', http: { paths: opts.paths ?? [path('/v1', 'kubernetes-bootcamp-v1'), path('/v2', 'kubernetes-bootcamp-v2')] } }],
    },
  };
}

/** The one group the Ingresses form, translated. */
export function translateAll(ingresses: IngressLike[], previous?: ApplicationLoadBalancer, services: ServiceLike[] = SERVICES) {
  const groups = [...groupIngresses(ingresses, CLASSES).values()];
  if (groups.length !== 1 || !groups[0]) throw new Error(`expected one group, got ${groups.length}`);
  return translateGroup({ group: groups[0], services, previous });
}

export function translated(ingresses: IngressLike[], previous?: ApplicationLoadBalancer, services?: ServiceLike[]): ApplicationLoadBalancer {
  const r = translateAll(ingresses, previous, services);
  if (!r.resource) throw new Error(formatTranslateErrors([...r.errors, ...r.members.flatMap((m) => m.errors)]));
  return r.resource;
}

/** Errors of the single member of a group of one. */
export function memberErrors(ing: IngressLike, services: ServiceLike[] = SERVICES) {
  const r = translateAll([ing], undefined, services);
  return r.members[0]?.errors ?? [];
}
