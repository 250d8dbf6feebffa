import type { KubeObject, OwnerReference, ResourceType } from './types.ts';

/**
 * The ownerReference that makes `owner` (a native object: Service, Ingress, PVC, Node) the
 * controller of a dependent (its custom resource). `controller: true` marks the one managing
 * owner; `blockOwnerDeletion: true` keeps a foreground deletion of the owner waiting for the
 * dependent. apiVersion/kind come from the owner or, for list items without them, from `type`.
 */
export function ownerReference(
  owner: KubeObject,
  opts: { controller?: boolean; blockOwnerDeletion?: boolean; type?: Pick<ResourceType, 'apiVersion' | 'kind'> } = {},
): OwnerReference {
  const apiVersion = owner.apiVersion ?? opts.type?.apiVersion;
  const kind = owner.kind ?? opts.type?.kind;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind) throw new Error('owner reference: owner has no apiVersion/kind (pass opts.type)');
  if (!name || !uid) throw new Error(`owner reference: ${kind} has no metadata.name/uid (was it read from the server?)`);
  return {
    apiVersion,
    kind,
    name,
    uid,
    controller: opts.controller ?? true,
    blockOwnerDeletion: opts.blockOwnerDeletion ?? true,
  };
}

/**
 * Checks the garbage collector's rules before an owner reference is written: a cluster-scoped
 * dependent may only have cluster-scoped owners, and a namespaced dependent only owners in its
 * own namespace (or cluster-scoped ones). The GC treats any other reference as unresolvable — it
 * never collects the dependent. Throws with what is wrong.
 */
export function assertOwnerAllowed(owner: KubeObject, dependentNamespace: string | undefined): void {
  const ownerNs = owner.metadata?.namespace;
  if (!ownerNs) return;
  const who = `${owner.kind ?? 'owner'} ${ownerNs}/${owner.metadata?.name ?? ''}`;
  if (!dependentNamespace) {
    throw new Error(`${who} is namespaced and cannot own a cluster-scoped object`);
  }
  if (dependentNamespace !== ownerNs) {
    throw new Error(`${who} cannot own an object in namespace ${dependentNamespace}`);
  }
}

/**
 * Returns the dependent's ownerReferences with `owner` set as its controller (replacing a
 * reference with the same uid; other references are kept). Throws if the GC rules forbid it or if
 * another object already is the controller.
 */
export function withControllerReference(dependent: KubeObject, owner: KubeObject, type?: Pick<ResourceType, 'apiVersion' | 'kind'>): OwnerReference[] {
  assertOwnerAllowed(owner, dependent.metadata?.namespace);
  const ref = ownerReference(owner, { controller: true, blockOwnerDeletion: true, ...(type ? { type } : {}) });
  const refs = dependent.metadata?.ownerReferences ?? [];
  const other = refs.find((r) => r.controller && r.uid !== ref.uid);
  if (other) {
    throw new Error(`already controlled by ${other.kind} ${other.name} (uid ${other.uid})`);
  }
  return [...refs.filter((r) => r.uid !== ref.uid), ref];
}

/** The controller ownerReference of an object, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** True when `obj` has an ownerReference to `owner` (by uid). */
export function hasOwnerReference(obj: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata?.uid;
  return uid !== undefined && (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
}
