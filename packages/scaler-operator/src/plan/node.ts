import { STARTUP_TAINTS, STARTUP_TAINT_PREFIXES, TO_BE_DELETED_TAINT } from '../constants.ts';
import type { V1Node as Node, V1Pod as Pod } from '@kubernetes/client-node';
import { toResources } from '../quantity.ts';
import type { NodeShape } from './match.ts';

export function isReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Ready and with allocatable published: the scheduler can place pods on it. */
export function usable(n: Node): boolean {
  return isReady(n) && Object.keys(n.status?.allocatable ?? {}).length > 0;
}

export function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

export function toBeDeleted(n: Node): boolean {
  return (n.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
}

/** Whether new pods may land on it: usable, not cordoned, not being removed. */
export function schedulable(n: Node): boolean {
  return !n.spec?.unschedulable && !toBeDeleted(n) && !n.metadata?.deletionTimestamp && usable(n);
}

/**
 * Taints a joining node carries for a moment (the node lifecycle controller's not-ready taint, the cloud
 * controller's uninitialized taint) or that the cluster autoscaler's convention marks as startup taints.
 * They go away by themselves, so the planner ignores them; otherwise a node that just joined would look
 * full and its pods would be planned a second time.
 */
export function isStartupTaint(key: string): boolean {
  return STARTUP_TAINTS.has(key) || STARTUP_TAINT_PREFIXES.some((p) => key.startsWith(p));
}

export function nodeShape(n: Node): NodeShape {
  const taints = (n.spec?.taints ?? []).filter((t) => !isStartupTaint(t.key));
  return { name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {}, taints, allocatable: toResources(n.status?.allocatable) };
}
