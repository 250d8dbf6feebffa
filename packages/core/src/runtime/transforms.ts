import type { KubeObject } from './types.ts';

/**
 * Informer cache transforms: what an object keeps once it is in the cache. Every byte dropped here
 * is saved once per cached object (10,000 Pods: packages/core/bench/informer-memory.ts). A
 * transform must only drop what no reconciler reads: the cache is all they see.
 */

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Drops `metadata.managedFields` (server-side apply bookkeeping, often most of an object). */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  const md = obj.metadata as (Record<string, unknown> & object) | undefined;
  if (md && 'managedFields' in md) delete md.managedFields;
  return obj;
}

/**
 * The informers' default: `managedFields` and kubectl's last-applied-configuration annotation (a
 * second copy of the whole object as JSON, on everything made with `kubectl apply`). Both are
 * bookkeeping of writers; no controller decides anything on them.
 */
export function defaultTransform<T extends KubeObject>(obj: T): T {
  stripManagedFields(obj);
  const ann = obj.metadata?.annotations as Record<string, string> | undefined;
  if (ann && LAST_APPLIED in ann) delete ann[LAST_APPLIED];
  return obj;
}

/** Container fields that only the kubelet acts on: how to run the process, not where it fits. */
const KUBELET_ONLY = [
  'command',
  'args',
  'env',
  'envFrom',
  'workingDir',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'volumeMounts',
  'volumeDevices',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'stdin',
  'stdinOnce',
  'tty',
] as const;

interface PodLike extends KubeObject {
  spec?: { containers?: Record<string, unknown>[]; initContainers?: Record<string, unknown>[]; ephemeralContainers?: Record<string, unknown>[] };
}

/**
 * `defaultTransform` plus, for Pods, the container fields only the kubelet acts on (command, env,
 * probes, mounts, …). Kept: names, images, ports, resources, restartPolicy (sidecars), securityContext
 * and everything outside containers (scheduling constraints, volumes, status). For the informers of
 * controllers that place or count pods (eni, scaler), not for anything that runs them.
 */
export function slimPod<T extends KubeObject>(obj: T): T {
  defaultTransform(obj);
  const spec = (obj as PodLike).spec;
  if (!spec) return obj;
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    for (const c of list ?? []) for (const k of KUBELET_ONLY) if (k in c) delete c[k];
  }
  return obj;
}
