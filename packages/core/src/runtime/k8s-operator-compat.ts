// The parts of @dot-i/k8s-operator's programming model (`watchResource` events, `handleResourceFinalizer`,
// `ResourceMeta`) that `Operator` keeps, rebuilt on the informer, the keyed work queue and the
// finalizer helpers. Older operators use them; new code uses `informer()` + `controller()`.
import { ResourceEventType, ResourceMetaImpl } from './legacy.ts';
import type { ResourceEvent, ResourceMeta } from './legacy.ts';
import type { KubeClient } from './client.ts';
import type { Reconciler } from './controller.ts';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from './finalizers.ts';
import type { Informer } from './informer.ts';
import { objectKey, type KubeObject, type ResourceType } from './types.ts';

/**
 * A reconcile that turns an informer's state per key into the base class's Added / Modified /
 * Deleted events: Added the first time a key is seen, Deleted (with the last state) only for a key
 * that was delivered.
 */
export function eventsFromInformer(inf: Informer<KubeObject>, plural: string, onEvent: (event: ResourceEvent) => Promise<void>): Reconciler {
  const delivered = new Set<string>();
  const tombstones = new Map<string, KubeObject>();
  inf.on({ delete: (obj) => tombstones.set(objectKey(obj), obj) });
  return async (key) => {
    const obj = inf.get(key);
    if (obj) {
      tombstones.delete(key);
      const type = delivered.has(key) ? ResourceEventType.Modified : ResourceEventType.Added;
      await onEvent({ meta: ResourceMetaImpl.createWithPlural(plural, obj as never), object: obj as never, type });
      delivered.add(key);
      return;
    }
    const gone = tombstones.get(key);
    if (gone && delivered.has(key)) {
      await onEvent({ meta: ResourceMetaImpl.createWithPlural(plural, gone as never), object: gone as never, type: ResourceEventType.Deleted });
    }
    tombstones.delete(key);
    delivered.delete(key);
  };
}

/** `handleResourceFinalizer`'s contract; failures propagate so the event is retried. */
export async function finalizerStep(
  client: KubeClient,
  type: ResourceType,
  event: ResourceEvent,
  finalizer: string,
  deleteAction: (event: ResourceEvent) => Promise<void>,
): Promise<boolean> {
  const obj = event.object as KubeObject;
  if (!obj.metadata || (event.type !== ResourceEventType.Added && event.type !== ResourceEventType.Modified)) return false;
  if (!isBeingDeleted(obj)) {
    if (hasFinalizer(obj, finalizer)) return false;
    await addFinalizer(client, type, obj, finalizer);
    return true;
  }
  if (hasFinalizer(obj, finalizer)) {
    await deleteAction(event);
    await removeFinalizer(client, type, obj, finalizer);
  }
  return true;
}

/** The resource type a `ResourceMeta` names when it was not registered by `watchResource`. */
export function typeOfMeta(meta: ResourceMeta): ResourceType {
  // meta.id is `<plural>.<apiVersion>`; the plural never contains a dot
  const dot = meta.id.indexOf('.');
  return { apiVersion: meta.id.slice(dot + 1), kind: meta.kind, plural: meta.id.slice(0, dot), namespaced: true };
}

/** The object a `ResourceMeta` stands for, enough to address it with its resourceVersion. */
export function metaObject(meta: ResourceMeta): KubeObject {
  return {
    apiVersion: meta.apiVersion,
    kind: meta.kind,
    metadata: { name: meta.name, namespace: meta.namespace, resourceVersion: meta.resourceVersion },
  };
}
