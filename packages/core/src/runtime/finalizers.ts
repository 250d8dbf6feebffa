import { isKubeNotFound, type KubeClient } from './client.ts';
import type { KubeObject, ResourceType } from './types.ts';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return obj.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/**
 * The JSON patch that sets `metadata.finalizers` to `finalizers`, guarded by the object's
 * resourceVersion: the server answers 409 Conflict when the object changed since it was read, so
 * a stale cache can never drop someone else's finalizer.
 */
export function finalizersPatch(obj: KubeObject, finalizers: string[]): unknown[] {
  const rv = obj.metadata?.resourceVersion;
  if (!rv) throw new Error('finalizer patch: object has no metadata.resourceVersion');
  return [
    { op: 'replace', path: '/metadata/resourceVersion', value: rv },
    { op: 'add', path: '/metadata/finalizers', value: finalizers },
  ];
}

/**
 * Sets the object's finalizers (JSON patch + resourceVersion). Errors propagate — unlike
 * @dot-i/k8s-operator's `setResourceFinalizers`, which logs and carries on as if it had worked.
 */
export async function setFinalizers<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  finalizers: string[],
): Promise<T> {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`set finalizers on ${type.kind}: object has no metadata.name`);
  return client.patch<T>(type, { name, namespace: obj.metadata?.namespace }, finalizersPatch(obj, finalizers), {
    patchType: 'json',
  });
}

/** Adds `finalizer` unless present (then no request is made). Returns the current object. */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return setFinalizers(client, type, obj, [...(obj.metadata?.finalizers ?? []), finalizer]);
}

/**
 * Removes `finalizer` if present. Resolves `undefined` when the object is gone afterwards (it was
 * the last finalizer of a deleted object, or someone else already removed it).
 */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  try {
    const updated = await setFinalizers(
      client,
      type,
      obj,
      (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),
    );
    return updated;
  } catch (err) {
    if (isKubeNotFound(err)) return undefined;
    throw err;
  }
}
