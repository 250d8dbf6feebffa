import type { V1Container as Container, V1NodeSelector as NodeSelector, V1Pod as Pod, V1PodSpec as PodSpec } from '@kubernetes/client-node';
import { addResources, maxResources, resourceAmount, toResources, type Resources } from '../quantity.ts';
import type { PodRequirements } from './match.ts';

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Parsed quantities by `name=quantity`: replicas repeat the same few strings, parsing them is most of extracting a pod. */
const parsed = new Map<string, number>();

function amount(name: string, q: string | number): number {
  const key = `${name}=${q}`;
  let v = parsed.get(key);
  if (v === undefined) {
    v = resourceAmount(name, q);
    if (parsed.size >= 10_000) parsed.clear();
    parsed.set(key, v);
  }
  return v;
}

function containerRequests(c: Container): Resources {
  const out: Resources = {};
  const req = c.resources?.requests;
  if (req) for (const k in req) out[k] = amount(k, req[k]!);
  return out;
}

/**
 * The resources a pod's spec asks a node for, as the scheduler counts them: the containers' requests
 * summed (with restartable init containers — sidecars — that run alongside), or the largest
 * init-container step if that is more, plus the pod overhead, plus one pod slot.
 */
export function specRequests(spec: PodSpec | undefined): Resources {
  let sidecars: Resources = {};
  let initPeak: Resources = {};
  for (const c of spec?.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      sidecars = addResources(sidecars, r);
      initPeak = maxResources(initPeak, sidecars);
    } else {
      initPeak = maxResources(initPeak, addResources(r, sidecars));
    }
  }
  let main: Resources = {};
  for (const c of spec?.containers ?? []) main = addResources(main, containerRequests(c));
  let total = maxResources(addResources(main, sidecars), initPeak);
  total = addResources(total, toResources(spec?.overhead));
  total.pods = 1;
  return total;
}

/**
 * Everything the planner needs about one pod. `volumeAffinity` is the node affinity of each
 * PersistentVolume the pod's claims are bound to (looked up by the caller: the planner does no I/O).
 */
export function podRequirements(pod: Pod, volumeAffinity: readonly NodeSelector[] = []): PodRequirements {
  const spec = pod.spec;
  const out: PodRequirements = {
    key: podKey(pod),
    requests: specRequests(spec),
    nodeSelector: spec?.nodeSelector ?? {},
    tolerations: spec?.tolerations ?? [],
    volumeAffinity,
  };
  const aff = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (aff) out.affinity = aff;
  if (spec?.priority !== undefined) out.priority = spec.priority;
  return out;
}

/** True for a pod the scheduler gave up on: Pending, unbound, PodScheduled=False with reason Unschedulable. */
export function isUnschedulable(pod: Pod): boolean {
  if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase && pod.status.phase !== 'Pending') return false;
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' && c.reason === 'Unschedulable';
}

/** DaemonSet pods are placed per node; a new node never helps a pending one. */
export function isDaemonSetPod(pod: Pod): boolean {
  return (pod.metadata?.ownerReferences ?? []).some((o) => o.controller && o.kind === 'DaemonSet');
}
