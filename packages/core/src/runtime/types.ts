import type { KubernetesObject, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';

/**
 * Kubernetes objects are client-node's types everywhere (one set: `V1Pod`, `V1Node`, … and these).
 * The runtime passes the API server's JSON through untouched, so a timestamp typed `Date` by
 * client-node is an RFC 3339 string at run time: read timestamps with `new Date(x)` or `String(x)`.
 */
export type OwnerReference = V1OwnerReference;
export type ObjectMeta = V1ObjectMeta;
export type KubeObject = KubernetesObject;

/**
 * A list as the API server sends it. Not client-node's `KubernetesListObject`: its model renames
 * `metadata.continue` to `_continue`, which the JSON on the wire does not have.
 */
export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** What the runtime needs to address a kind of object on the API server. */
export interface ResourceType {
  /** `v1` for the core group, `group/version` otherwise. */
  apiVersion: string;
  kind: string;
  /** Lower-case plural used in URLs, e.g. `configmaps`. */
  plural: string;
  namespaced: boolean;
}

/** Resource types of the built-in kinds the operators and the runtime use. */
export const resources = {
  Namespace: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  Node: { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false },
  Pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  Service: { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  Secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  Event: { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  PersistentVolume: { apiVersion: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false },
  PersistentVolumeClaim: {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    namespaced: true,
  },
  EndpointSlice: {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    namespaced: true,
  },
  Ingress: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true },
  IngressClass: { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false },
  StorageClass: { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false },
  VolumeAttachment: {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    plural: 'volumeattachments',
    namespaced: false,
  },
  CSINode: { apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', plural: 'csinodes', namespaced: false },
  Lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true },
} as const satisfies Record<string, ResourceType>;

/** `/api/v1/namespaces/ns/configmaps/name/status` and friends. */
export function resourcePath(
  type: Pick<ResourceType, 'apiVersion' | 'plural'>,
  where: { namespace?: string | undefined; name?: string | undefined; subresource?: string | undefined } = {},
): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  let path = root;
  if (where.namespace) path += `/namespaces/${encodeURIComponent(where.namespace)}`;
  path += `/${type.plural}`;
  if (where.name !== undefined) path += `/${encodeURIComponent(where.name)}`;
  if (where.subresource) path += `/${where.subresource}`;
  return path;
}

/** The cache / queue key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by `objectKey`. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
