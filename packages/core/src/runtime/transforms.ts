import type { KubeObject } from './types.ts';

/**
 * Informer cache transforms: what an object keeps once it is in the cache. Every byte dropped here
 * is saved once per cached object (10,000 Pods: packages/core/bench/informer-memory.ts). A
 * transform must only drop what no reconciler reads: the cache is all they see.
 */

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

// Fields are dropped by building a new object without them, never with `delete`: V8 turns an
// object that lost a property into a hash table, which costs more than the field saved (a Pod
// cache with `delete`-trimmed containers measured larger than one without the trim).

/** `src` without `drop`, as a fresh object. */
function without<T extends object>(src: T, drop: (k: string) => boolean): T {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) if (!drop(k)) out[k] = (src as Record<string, unknown>)[k];
  return out as T;
}

/** Drops `metadata.managedFields` (server-side apply bookkeeping, often most of an object). */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  const md = obj.metadata;
  if (md && 'managedFields' in md) obj.metadata = without(md, (k) => k === 'managedFields');
  return obj;
}

/**
 * The informers' default: `managedFields` and kubectl's last-applied-configuration annotation (a
 * second copy of the whole object as JSON, on everything made with `kubectl apply`). Both are
 * bookkeeping of writers; no controller decides anything on them.
 */
export function defaultTransform<T extends KubeObject>(obj: T): T {
  const md = obj.metadata;
  if (!md) return obj;
  const ann = md.annotations as Record<string, string> | undefined;
  if (!('managedFields' in md) && !(ann && LAST_APPLIED in ann)) return obj;
  const next = without(md, (k) => k === 'managedFields');
  if (ann && LAST_APPLIED in ann) next.annotations = without(ann, (k) => k === LAST_APPLIED);
  obj.metadata = next;
  return obj;
}

/** What a container keeps in `slimPod`: where it fits, not how the kubelet runs it. */
const PLACEMENT = new Set(['name', 'image', 'ports', 'resources', 'resizePolicy', 'restartPolicy', 'securityContext']);

interface PodLike extends KubeObject {
  spec?: { containers?: Record<string, unknown>[]; initContainers?: Record<string, unknown>[]; ephemeralContainers?: Record<string, unknown>[] };
}

/**
 * `defaultTransform` plus, for Pods, containers cut down to name, image, ports, resources,
 * resizePolicy, restartPolicy (sidecars) and securityContext — command, env, probes, mounts and the
 * rest are the kubelet's business. Everything outside containers (scheduling constraints, volumes,
 * status) stays. For the informers of controllers that place or count pods (eni, scaler), not for
 * anything that runs them.
 */
export function slimPod<T extends KubeObject>(obj: T): T {
  defaultTransform(obj);
  const spec = (obj as PodLike).spec;
  if (!spec) return obj;
  const slim = (list: Record<string, unknown>[] | undefined) => list?.map((c) => without(c, (k) => !PLACEMENT.has(k)));
  const next = { ...spec };
  for (const f of ['containers', 'initContainers', 'ephemeralContainers'] as const) if (spec[f]) next[f] = slim(spec[f]);
  (obj as PodLike).spec = next;
  return obj;
}
