import type { Informer } from '@kube-iaas/core/runtime';
import type { V1OwnerReference as OwnerReference, V1Pod as Pod } from '@kubernetes/client-node';
import { declaredPods, expectedPods, isWorkloadKind, type WorkloadKind, type WorkloadObject } from '../plan/expected.ts';
import type { PodRequirements } from '../plan/match.ts';
import { isTerminal } from '../plan/node.ts';
import { isUnschedulable, podKey } from '../plan/pod.ts';

/** The informers of the workload controllers whose declared pod counts the scaler plans for. */
export interface WorkloadInformers {
  replicaSets: Informer<WorkloadObject>;
  jobs: Informer<WorkloadObject>;
  statefulSets: Informer<WorkloadObject>;
  /** Pods, with a `byController` index on their controller's uid (`controllerUid`). */
  pods: Informer<Pod>;
}

export const BY_CONTROLLER = 'byController';

/** Index function of the pods informer: the uid of the pod's controller. */
export function controllerUid(pod: Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
}

/** A workload the plan covered, with the declared count it covered. */
export interface PlannedWorkload {
  key: string;
  uid: string;
  declared: number;
  /** Its unschedulable pods' keys in this plan. */
  marked: string[];
}

export interface ExpandedPods {
  pods: PodRequirements[];
  workloads: PlannedWorkload[];
  /** Pod key → the workload's uid, for its unschedulable pods. */
  workloadOf: Map<string, string>;
}

/**
 * The thin edge between the caches and `expectedPods`: finds each unschedulable pod's workload and
 * its other pods, and remembers which declared count it last planned for, so a pod of a workload
 * whose count is planned already waits for the next batch instead of starting a run of its own.
 */
export class WorkloadView {
  readonly #inf: WorkloadInformers | undefined;
  /** Workload uid → the declared count of the last plan that included it. */
  readonly #planned = new Map<string, number>();

  constructor(informers: WorkloadInformers | undefined) {
    this.#inf = informers;
  }

  #informer(kind: WorkloadKind): Informer<WorkloadObject> | undefined {
    if (!this.#inf) return undefined;
    return kind === 'ReplicaSet' ? this.#inf.replicaSets : kind === 'Job' ? this.#inf.jobs : this.#inf.statefulSets;
  }

  /** The pod's controller when it is a workload kind the cache holds. */
  #workloadOf(pod: Pod): { ref: OwnerReference; kind: WorkloadKind; obj: WorkloadObject } | undefined {
    const ref = pod.metadata?.ownerReferences?.find((o) => o.controller);
    if (!ref || !isWorkloadKind(ref.kind)) return undefined;
    const obj = this.#informer(ref.kind)?.getByName(ref.name, pod.metadata?.namespace);
    return obj?.metadata?.uid === ref.uid ? { ref, kind: ref.kind, obj } : undefined;
  }

  #activePods(uid: string): Pod[] {
    return (this.#inf?.pods.byIndex(BY_CONTROLLER, uid) ?? []).filter((p) => !isTerminal(p) && !p.metadata?.deletionTimestamp);
  }

  /** Whether an unschedulable pod's workload declares a count no plan has covered yet: plan now rather than after a batch. */
  wantsPlan(pod: Pod): boolean {
    const w = this.#workloadOf(pod);
    if (!w) return false;
    const declared = declaredPods(w.kind, w.obj, this.#activePods(w.ref.uid).length);
    return this.#planned.get(w.ref.uid) !== declared;
  }

  /**
   * The pods to plan: each unschedulable pod of a workload brings its workload's pods (`expectedPods`);
   * other pods stand for themselves unless `holds` keeps them for a batch still collecting.
   */
  expand(unschedulable: readonly Pod[], requirements: (p: Pod) => PodRequirements, holds: (key: string) => boolean): ExpandedPods {
    const out: ExpandedPods = { pods: [], workloads: [], workloadOf: new Map() };
    const seen = new Set<string>();
    for (const pod of unschedulable) {
      const w = this.#workloadOf(pod);
      if (!w) {
        if (!holds(podKey(pod))) out.pods.push(requirements(pod));
        continue;
      }
      const uid = w.ref.uid;
      out.workloadOf.set(podKey(pod), uid);
      if (seen.has(uid)) continue;
      seen.add(uid);
      const active = this.#activePods(uid);
      const unbound = active.filter((p) => !p.spec?.nodeName);
      const marked = unbound.filter(isUnschedulable);
      const ordered = [...marked, ...unbound.filter((p) => !isUnschedulable(p))];
      const key = `${w.kind} ${pod.metadata?.namespace ?? ''}/${w.ref.name}`;
      const declared = declaredPods(w.kind, w.obj, active.length);
      const reqs = ordered.map(requirements);
      const e = expectedPods({ key, kind: w.kind, declared, bound: active.length - unbound.length, unbound: reqs, sample: requirements(pod) });
      out.pods.push(...e.pods);
      out.workloads.push({ key, uid, declared, marked: marked.map(podKey) });
    }
    return out;
  }

  /** After a plan: these workloads' counts are covered (or found unhelpable) — no run of their own until they change. */
  planned(workloads: readonly PlannedWorkload[]): void {
    for (const w of workloads) this.#planned.set(w.uid, w.declared);
    // forget workloads that are gone
    if (this.#planned.size > 4 * workloads.length + 1000) {
      const live = new Set(workloads.map((w) => w.uid));
      for (const uid of this.#planned.keys()) if (!live.has(uid)) this.#planned.delete(uid);
    }
  }
}
