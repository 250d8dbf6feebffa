import { SAFE_TO_EVICT_ANNOTATION, SAFE_TO_EVICT_LOCAL_VOLUMES_ANNOTATION } from '../constants.ts';
import type { V1NodeSelector as NodeSelector, V1Pod as Pod } from '@kubernetes/client-node';
import { addResources, type Resources } from '../quantity.ts';
import { classify, firstFit, newBin } from './pack.ts';
import type { ExistingNode } from './planner.ts';
import { isDaemonSetPod, podKey, podRequirements, specRequests } from './pod.ts';

/** A registered node of a group, as the scale-down decision sees it. */
export interface ScaleDownNode {
  name: string;
  /** Ready condition True. */
  ready: boolean;
  /** Annotated `cluster-autoscaler.kubernetes.io/scale-down-disabled: "true"`. */
  scaleDownDisabled: boolean;
  allocatable: Resources;
  /** The node's pods that are not terminal (DaemonSet and mirror pods included: they count towards utilization). */
  pods: readonly Pod[];
}

export interface ScaleDownGroup {
  name: string;
  /** False when the group is in trouble (no ASG, a problem condition) or `spec.scaleDown.enabled: false`. */
  enabled: boolean;
  desired: number;
  min: number;
  /** Utilization below which a node is unneeded (spec, else the flag). */
  threshold: number;
  /** How long a node must stay unneeded (spec, else the flag). */
  unneededMs: number;
  /** Registered nodes (instances of the group with a Node). */
  nodes: readonly ScaleDownNode[];
}

export interface ScaleDownInput {
  now: number;
  groups: readonly ScaleDownGroup[];
  /** Since when each node has been unneeded (the previous decision's `unneededSince`). */
  unneededSince: ReadonlyMap<string, number>;
  /** Drains in flight: node → its group. */
  draining: ReadonlyMap<string, string>;
  /** Last scale-up of any group (0 if none) and `--scale-down-delay-after-add`. */
  lastScaleUpAt: number;
  delayAfterAddMs: number;
  /** Whether any group still waits for nodes it asked for. */
  anyUpcoming: boolean;
  maxEmptyBulkDelete: number;
  /** Registered, schedulable nodes with what their pods request: where evicted pods may go. */
  schedulable: readonly ExistingNode[];
  /** Node affinity of the volumes a pod uses (bound PVs); none when absent. */
  volumeAffinity?: (pod: Pod) => NodeSelector[];
}

export interface NodeRemoval {
  group: string;
  node: string;
  /** The pods to evict (neither DaemonSet nor mirror pods). */
  pods: Pod[];
}

export interface ScaleDownPlan {
  /** Nodes unneeded now and since when (the next decision's input). */
  unneededSince: Map<string, number>;
  /** Empty nodes to remove at once (at most `maxEmptyBulkDelete`). */
  empty: NodeRemoval[];
  /** At most one non-empty node to drain, only when no drain is in flight. */
  drain?: NodeRemoval | undefined;
  /** Unneeded nodes a pod keeps (why, for the log). */
  blocked: { node: string; reason: string }[];
}

export function isMirrorPod(p: Pod): boolean {
  return !!p.metadata?.annotations?.['kubernetes.io/config.mirror'];
}

/** Why a pod keeps its node, or undefined when it may be evicted (the cluster autoscaler's rules). */
export function evictionBlocker(p: Pod): string | undefined {
  const ann = p.metadata?.annotations ?? {};
  const key = podKey(p);
  if (ann[SAFE_TO_EVICT_ANNOTATION] === 'false') return `pod ${key} is annotated ${SAFE_TO_EVICT_ANNOTATION}=false`;
  if (ann[SAFE_TO_EVICT_ANNOTATION] === 'true') return undefined;
  if (!(p.metadata?.ownerReferences ?? []).some((o) => o.controller)) return `pod ${key} has no controller (it would not come back)`;
  const safeLocal = new Set((ann[SAFE_TO_EVICT_LOCAL_VOLUMES_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  for (const vol of p.spec?.volumes ?? []) {
    const local = vol.hostPath || (vol.emptyDir && vol.emptyDir.medium !== 'Memory');
    if (local && !safeLocal.has(vol.name ?? '')) return `pod ${key} has local storage (volume ${vol.name})`;
  }
  return undefined;
}

/** max(requested CPU / allocatable, requested memory / allocatable). */
export function utilization(allocatable: Readonly<Resources>, pods: readonly Pod[]): number {
  let used: Resources = {};
  for (const p of pods) used = addResources(used, specRequests(p.spec));
  return Math.max((used.cpu ?? 0) / (allocatable.cpu || 1), (used.memory ?? 0) / (allocatable.memory || 1));
}

/**
 * The scale-down decision, pure. A node of an enabled group that is Ready, not draining and not
 * opted out is unneeded while its utilization is below the group's threshold; once unneeded for the
 * group's time — with no scale-up within the delay after add, nothing upcoming anywhere and the group
 * above its min (counting drains in flight) — it is removed if no pod blocks it: empty nodes in bulk,
 * else one node at a time whose pods all fit on the other schedulable nodes (nodes chosen so far
 * excluded), and only when no drain is in flight. Groups and nodes are taken in the given order.
 */
export function planScaleDown(input: ScaleDownInput): ScaleDownPlan {
  const { now } = input;
  const unneededSince = new Map(input.unneededSince);
  const seen = new Set<string>();
  const recentAdd = now - input.lastScaleUpAt < input.delayAfterAddMs;
  const plan: ScaleDownPlan = { unneededSince, empty: [], blocked: [] };
  for (const g of input.groups) {
    if (!g.enabled) continue;
    let removable = g.desired - g.min - [...input.draining.values()].filter((group) => group === g.name).length;
    for (const n of g.nodes) {
      seen.add(n.name);
      if (input.draining.has(n.name) || !n.ready) continue;
      if (n.scaleDownDisabled || utilization(n.allocatable, n.pods) >= g.threshold) {
        unneededSince.delete(n.name);
        continue;
      }
      const since = unneededSince.get(n.name) ?? now;
      unneededSince.set(n.name, since);
      if (recentAdd || input.anyUpcoming || now - since < g.unneededMs || removable <= 0) continue;
      const pods = n.pods.filter((p) => !isDaemonSetPod(p) && !isMirrorPod(p));
      const blocked = pods.map(evictionBlocker).find((b) => b !== undefined);
      if (blocked) {
        plan.blocked.push({ node: n.name, reason: blocked });
        continue;
      }
      if (pods.length === 0) {
        if (plan.empty.length < input.maxEmptyBulkDelete) {
          plan.empty.push({ group: g.name, node: n.name, pods: [] });
          removable--;
        }
        continue;
      }
      if (!plan.drain && input.draining.size === 0 && fitsElsewhere(input, pods, new Set([n.name, ...plan.empty.map((e) => e.node)]))) {
        plan.drain = { group: g.name, node: n.name, pods };
        removable--;
      }
    }
  }
  for (const k of unneededSince.keys()) if (!seen.has(k)) unneededSince.delete(k);
  return plan;
}

/** Whether every pod fits, first fit, on the schedulable nodes outside `exclude`. */
function fitsElsewhere(input: ScaleDownInput, pods: readonly Pod[], exclude: ReadonlySet<string>): boolean {
  const classes = classify(pods.map((p) => podRequirements(p, input.volumeAffinity?.(p) ?? [])));
  const bins = input.schedulable.filter((e) => !exclude.has(e.node.name)).map((e) => newBin(e.node, e.used));
  firstFit(classes, bins);
  return classes.every((c) => c.pods.length === 0);
}
