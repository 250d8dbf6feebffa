import type { KubeObject } from './types.ts';

/**
 * The event types and resource meta of @dot-i/k8s-operator's programming model (`watchResource`,
 * `handleResourceFinalizer`, …), kept here so `Operator` no longer inherits from that package: its
 * CommonJS entry requires all of @kubernetes/client-node, which keeps every generated API and model
 * in memory (and in a bundle, where tree-shaking cannot see through `require`). Same values and
 * shapes as the package's, so code written against it keeps compiling.
 */
export const ResourceEventType = { Added: 'ADDED', Modified: 'MODIFIED', Deleted: 'DELETED' } as const;
export type ResourceEventType = (typeof ResourceEventType)[keyof typeof ResourceEventType];

/** Some meta information on the resource; `id` is `<plural>.<apiVersion>`. */
export interface ResourceMeta {
  name: string;
  namespace?: string;
  id: string;
  resourceVersion: string;
  apiVersion: string;
  kind: string;
}

/** An event on a Kubernetes resource. */
export interface ResourceEvent {
  meta: ResourceMeta;
  type: ResourceEventType;
  object: KubeObject;
}

export class ResourceMetaImpl implements ResourceMeta {
  id: string;
  name: string;
  namespace?: string;
  resourceVersion: string;
  apiVersion: string;
  kind: string;

  static createWithId(id: string, object: KubeObject): ResourceMeta {
    return new ResourceMetaImpl(id, object);
  }

  static createWithPlural(plural: string, object: KubeObject): ResourceMeta {
    return new ResourceMetaImpl(`${plural}.${object.apiVersion}`, object);
  }

  private constructor(id: string, object: KubeObject) {
    const md = object.metadata;
    if (!md?.name || !md.resourceVersion || !object.apiVersion || !object.kind) throw new Error(`Malformed event object for '${id}'`);
    this.id = id;
    this.name = md.name;
    if (md.namespace !== undefined) this.namespace = md.namespace;
    this.resourceVersion = md.resourceVersion;
    this.apiVersion = object.apiVersion;
    this.kind = object.kind;
  }
}
