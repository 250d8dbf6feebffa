import { rfc3339, type EventRecorder, type Informer, type KubeClient, type ResourceType, type StatusWriter } from '@kube-iaas/core/runtime';
import { type InstanceTypeCatalog } from '@kube-iaas/core/instance-types';
import { type Logger } from '@kube-iaas/core/log';
import { NODE_GROUP, type NodeGroup, type NodeGroupStatus } from '@kube-iaas/crds';
import { Reasons } from '../constants.ts';
import type { V1DaemonSet as DaemonSet, V1Node as Node, V1PersistentVolume as PersistentVolume, V1PersistentVolumeClaim as PersistentVolumeClaim, V1Pod as Pod } from '@kubernetes/client-node';
import type { AsgView } from '../aws/groups.ts';
import type { NodeGroupProvider } from '../aws/provider.ts';
import type { ExpanderName } from '../plan/expander.ts';
import type { Resources } from '../quantity.ts';
import type { NodeTemplate } from '../template/build.ts';
import { scalerMetrics } from '../metrics.ts';
import type { ClusterView } from './cluster.ts';
import type { WorkloadInformers } from './workloads.ts';

export const NODE_GROUP_TYPE: ResourceType = { apiVersion: NODE_GROUP.apiVersion, kind: NODE_GROUP.kind, plural: NODE_GROUP.plural, namespaced: false };
export const POD_TYPE = { apiVersion: 'v1', kind: 'Pod' } as const;
export const NODE_TYPE = { apiVersion: 'v1', kind: 'Node' } as const;

export interface ScalerSettings {
  cluster: string;
  region: string;
  autoDiscovery: boolean;
  expander: ExpanderName;
  maxNodesTotal: number;
  reserved: Resources;
  nodeEphemeralStorage: number;
  provisionTimeoutMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  scaleDownEnabled: boolean;
  utilizationThreshold: number;
  unneededMs: number;
  delayAfterAddMs: number;
  maxEmptyBulkDelete: number;
  maxGracefulTerminationMs: number;
  evictionRetryMs: number;
}

export interface ScalerDeps {
  settings: ScalerSettings;
  kube: KubeClient;
  events: EventRecorder;
  status: StatusWriter;
  log: Logger;
  /** The node groups' cloud API (Auto Scaling in production). */
  provider: NodeGroupProvider;
  catalog: InstanceTypeCatalog;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  nodeGroups: Informer<NodeGroup>;
  daemonSets: Informer<DaemonSet>;
  pvcs: Informer<PersistentVolumeClaim>;
  pvs: Informer<PersistentVolume>;
  /** ReplicaSets, Jobs and StatefulSets (and pods by controller): plan for the pods they declare. Without them each pod stands alone. */
  workloads?: WorkloadInformers | undefined;
  /** Whether a pod belongs to the batch of unschedulable pods still collecting: it waits for that batch to close. */
  batchHolds: (podKey: string) => boolean;
  now?: () => number;
}

/** What one run learnt about a group. */
export interface GroupView {
  ng: NodeGroup;
  name: string;
  asg?: AsgView | undefined;
  template?: NodeTemplate | undefined;
  /** Why the group may not grow (bad input, backoff, disabled). */
  blocked?: string | undefined;
  /** A problem with the NodeGroup or its ASG (a condition + Warning Event). */
  problem?: { reason: string; message: string } | undefined;
  min: number;
  max: number;
  desired: number;
  current: number;
  registered: Node[];
  ready: number;
  upcoming: number;
  priority: number;
}

/** What the scaler remembers of a group between runs. */
export interface GroupMemory {
  lastScaleUpAt?: number;
  failures: number;
  backoffUntil?: number;
  backoffReason?: string;
  lastScaleUp?: NodeGroupStatus['lastScaleUp'];
  lastScaleDown?: NodeGroupStatus['lastScaleDown'];
  lastProblem?: string;
  lastLimitsError?: string;
}

/**
 * A spec field the CRD defaults: the API server fills in `crdDefault` when it is unset, so that value
 * means "not set" and the operator flag applies; any other value is the user's.
 */
export function specOr(v: number | undefined, crdDefault: number, flagValue: number): number {
  return v === undefined || v === crdDefault ? flagValue : v;
}

/** The groups' memory (backoff, last scale-up/down), picked up from their status after a restart. */
export class GroupMemories {
  readonly #d: ScalerDeps;
  readonly #now: () => number;
  readonly #memory = new Map<string, GroupMemory>();
  /** Last scale-up of any group (0 if none). */
  lastScaleUpAny = 0;

  constructor(deps: ScalerDeps, now: () => number) {
    this.#d = deps;
    this.#now = now;
  }

  get(name: string, ng?: NodeGroup): GroupMemory {
    let m = this.#memory.get(name);
    if (!m) {
      m = { failures: 0 };
      const st = ng?.status;
      if (st?.backoffUntil) {
        m.backoffUntil = Date.parse(st.backoffUntil);
        m.backoffReason = st.backoffReason ?? '';
      }
      if (st?.lastScaleUp?.time) {
        m.lastScaleUpAt = Date.parse(st.lastScaleUp.time);
        m.lastScaleUp = st.lastScaleUp;
      }
      if (st?.lastScaleDown) m.lastScaleDown = st.lastScaleDown;
      this.#memory.set(name, m);
    }
    return m;
  }

  forget(name: string): void {
    this.#memory.delete(name);
  }

  /** A failed scale-up: the group backs off, doubling up to the max. */
  backoff(v: GroupView, reason: string): void {
    const s = this.#d.settings;
    const m = this.get(v.name);
    m.failures++;
    const ms = Math.min(s.backoffMs * 2 ** (m.failures - 1), s.backoffMaxMs);
    m.backoffUntil = this.#now() + ms;
    m.backoffReason = reason;
    v.blocked = `backing off until ${rfc3339(new Date(m.backoffUntil))}: ${reason}`;
    scalerMetrics.scaleUpFailures.inc({ group: v.name, reason: reason.startsWith('nodes did not join') ? 'timeout' : 'failed' });
    this.#d.events.warning(v.ng, Reasons.Backoff, `scale-up of ${v.name} backs off for ${Math.round(ms / 1000)}s: ${reason}`, { type: NODE_GROUP_TYPE });
    this.#d.log.warn({ nodeGroup: v.name, backoffMs: ms, reason }, 'node group backs off');
  }
}

/** What every stage of a run shares. */
export interface RunContext {
  d: ScalerDeps;
  memory: GroupMemories;
  cluster: ClusterView;
  now: () => number;
}
