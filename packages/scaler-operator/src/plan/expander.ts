import type { Resources } from '../quantity.ts';

export type ExpanderName = 'least-waste' | 'priority' | 'random';
export const EXPANDERS: readonly ExpanderName[] = ['least-waste', 'priority', 'random'];

/** One way to help the pending pods: add `nodes` nodes to `group`, which would hold `pods` pods. */
export interface ScaleUpOption {
  group: string;
  priority: number;
  nodes: number;
  /** The pods the new nodes would hold, or only how many (the planner names them for the chosen option). */
  pods: readonly string[] | number;
  /** Allocatable of one new node, and what the placed pods request in total. */
  allocatable: Resources;
  requested: Resources;
}

/**
 * The cluster autoscaler's least-waste score: the unused fraction of the new nodes' CPU plus that of
 * their memory. Lower is better.
 */
export function waste(o: ScaleUpOption): number {
  let w = 0;
  for (const r of ['cpu', 'memory']) {
    const cap = (o.allocatable[r] ?? 0) * o.nodes;
    if (cap > 0) w += (cap - (o.requested[r] ?? 0)) / cap;
  }
  return w;
}

function podCount(o: ScaleUpOption): number {
  return typeof o.pods === 'number' ? o.pods : o.pods.length;
}

function byLeastWaste(a: ScaleUpOption, b: ScaleUpOption): number {
  return waste(a) - waste(b) || podCount(b) - podCount(a) || a.nodes - b.nodes || a.group.localeCompare(b.group);
}

/** Picks one option. least-waste (default); priority: highest spec.priority, ties by least waste; random. */
export function expand(name: ExpanderName, options: readonly ScaleUpOption[], random: () => number = Math.random): ScaleUpOption | undefined {
  if (options.length === 0) return undefined;
  switch (name) {
    case 'random':
      return [...options].sort((a, b) => a.group.localeCompare(b.group))[Math.floor(random() * options.length) % options.length];
    case 'priority': {
      const top = Math.max(...options.map((o) => o.priority));
      return options.filter((o) => o.priority === top).sort(byLeastWaste)[0];
    }
    default:
      return [...options].sort(byLeastWaste)[0];
  }
}
