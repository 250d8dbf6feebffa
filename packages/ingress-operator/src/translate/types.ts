// The slices of native objects the translator reads. Structural, so the informer's objects
// (@kubernetes/client-node's V1Ingress, V1Service, V1IngressClass) fit without a dependency here.
import type { ObjectMeta } from '@kube-iaas/core/runtime';

export interface IngressServiceBackend {
  name: string;
  port?: { name?: string; number?: number };
}

export interface IngressBackend {
  service?: IngressServiceBackend;
  resource?: { kind: string; name: string; apiGroup?: string };
}

export interface IngressPath {
  path?: string;
  pathType: string;
  backend: IngressBackend;
}

export interface IngressRuleLike {
  host?: string;
  http?: { paths: IngressPath[] };
}

export interface IngressLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    rules?: IngressRuleLike[];
    tls?: Array<{ hosts?: string[]; secretName?: string }>;
  };
}

export interface ServicePortLike {
  name?: string;
  port: number;
  protocol?: string;
  nodePort?: number;
}

export interface ServiceLike {
  metadata?: ObjectMeta;
  spec?: { type?: string; ports?: ServicePortLike[] };
}

export interface IngressClassLike {
  metadata?: ObjectMeta;
  spec?: { controller?: string; parameters?: { apiGroup?: string; kind: string; name: string; scope?: string; namespace?: string } };
}

/** One problem, naming the annotation or the Ingress/Service field it comes from. */
export interface TranslateError {
  /** An annotation key, or a field path such as `spec.rules[0].http.paths[1].backend.service.port.name`. */
  field: string;
  message: string;
}

/** `field: message; field: message` for Events and conditions. */
export function formatTranslateErrors(errors: readonly TranslateError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
