import type { V1ObjectMeta as ObjectMeta } from '@kubernetes/client-node';
import type { PodRequirements } from './match.ts';

/**
 * What the planner reads of a ReplicaSet, Job or StatefulSet (the cache keeps only this: the pod
 * template is most of such an object and the planner copies an existing pod instead).
 */
export interface WorkloadObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { replicas?: number; parallelism?: number; completions?: number | null; suspend?: boolean };
  status?: { succeeded?: number; conditions?: { type: string; status: string }[] };
}

/**
 * Workload controllers that say how many pods they are about to have. When one of their pods is
 * unschedulable, the planner plans for all of them at once — the pods not created yet included — so
 * a 1,000-replica Deployment gets its nodes in one call instead of one per batch of pods.
 */
export const WORKLOAD_KINDS = ['ReplicaSet', 'Job', 'StatefulSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export function isWorkloadKind(kind: string | undefined): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind ?? '');
}

function jobFinished(job: WorkloadObject): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/**
 * How many active (not finished, not terminating) pods the controller will keep, from its spec:
 * a ReplicaSet's or StatefulSet's replicas (0 while it is being deleted); a Job's parallelism, capped
 * by the completions still missing (0 when suspended or finished). A Job without completions (a work
 * queue) creates no new pod once one has succeeded, so then only its `active` pods count.
 */
export function declaredPods(kind: WorkloadKind, obj: WorkloadObject, active: number): number {
  if (obj.metadata?.deletionTimestamp) return 0;
  const spec = obj.spec;
  if (kind === 'Job') {
    if (spec?.suspend || jobFinished(obj)) return 0;
    const parallelism = spec?.parallelism ?? 1;
    const succeeded = obj.status?.succeeded ?? 0;
    if (spec?.completions === undefined || spec.completions === null) return succeeded > 0 ? Math.min(active, parallelism) : parallelism;
    return Math.max(0, Math.min(parallelism, spec.completions - succeeded));
  }
  return Math.max(0, spec?.replicas ?? 1);
}

/** Keeps only what `declaredPods` reads (the informers' transform). */
export function trimWorkload(obj: WorkloadObject): WorkloadObject {
  const md = obj.metadata ?? {};
  const spec = obj.spec ?? {};
  const out: WorkloadObject = {
    metadata: { name: md.name, namespace: md.namespace, uid: md.uid, resourceVersion: md.resourceVersion, deletionTimestamp: md.deletionTimestamp },
    spec: { replicas: spec.replicas, parallelism: spec.parallelism, completions: spec.completions, suspend: spec.suspend },
    status: { succeeded: obj.status?.succeeded, conditions: obj.status?.conditions?.map((c) => ({ type: c.type, status: c.status })) },
  };
  if (obj.apiVersion) out.apiVersion = obj.apiVersion;
  if (obj.kind) out.kind = obj.kind;
  return out;
}

/** A workload with at least one unschedulable pod, as the planner is to see it. */
export interface WorkloadPending {
  /** `Kind namespace/name`, unique among workloads; the expected pods' keys start with it. */
  key: string;
  kind: WorkloadKind;
  /** `declaredPods`. */
  declared: number;
  /** Its active pods already bound to a node. */
  bound: number;
  /** Its active pods without a node, the unschedulable ones first. */
  unbound: readonly PodRequirements[];
  /** Requirements of the pods it is about to create: those of one of its pods (admission defaults included). */
  sample: PodRequirements;
}

export interface Expected {
  /** The workload's pods to plan: existing unbound ones, then the ones it has yet to create. */
  pods: PodRequirements[];
  /** How many of them do not exist yet. */
  expected: number;
  /** Unbound pods beyond the declared count: the controller deletes them (a scale-down), so they are not planned. */
  surplus: string[];
}

/**
 * The pods to plan for a workload: its declared count less the pods already bound. Unbound pods beyond
 * that are about to be deleted (the ReplicaSet controller removes unscheduled pods first), the missing
 * ones are about to be created. A pod created later is a copy of the sample: a StatefulSet's new
 * pods get claims of their own, so the sample's bound volumes do not constrain them.
 */
export function expectedPods(w: WorkloadPending): Expected {
  const toPlace = Math.max(0, w.declared - w.bound);
  const pods = w.unbound.slice(0, toPlace);
  const surplus = w.unbound.slice(toPlace).map((p) => p.key);
  const expected = toPlace - pods.length;
  const template: PodRequirements = w.kind === 'StatefulSet' ? { ...w.sample, volumeAffinity: [] } : w.sample;
  for (let i = 0; i < expected; i++) pods.push({ ...template, key: `${w.key}#expected-${i}` });
  return { pods, expected, surplus };
}
