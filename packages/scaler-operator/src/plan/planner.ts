import type { Resources } from '../quantity.ts';
import type { NodeTemplate } from '../template/build.ts';
import { expand, type ExpanderName, type ScaleUpOption } from './expander.ts';
import { BinSet } from './bins.ts';
import { ClassTable, left, perAmount, type CountClass } from './classes.ts';
import type { NodeShape, PodRequirements } from './match.ts';

/** A group as the planner sees it. */
export interface PlanGroup {
  name: string;
  /** Undefined when the template could not be built; `blocked` then says why. */
  template?: NodeTemplate | undefined;
  /** Why the group may not grow now (bad input, backoff, scale-up disabled); undefined if it may. */
  blocked?: string | undefined;
  desired: number;
  max: number;
  /** Nodes asked for that have not joined yet: capacity for pending pods before asking for more. */
  upcoming: number;
  priority: number;
}

/** A node that exists, with what its pods already request. */
export interface ExistingNode {
  node: NodeShape;
  used: Resources;
}

export interface PlanInput {
  pods: readonly PodRequirements[];
  groups: readonly PlanGroup[];
  nodes?: readonly ExistingNode[];
  expander?: ExpanderName;
  /** Cluster-wide cap on nodes (0 = none), and how many there are now (registered + upcoming). */
  maxNodesTotal?: number;
  currentNodes?: number;
  random?: () => number;
}

export interface GroupScaleUp {
  group: string;
  from: number;
  to: number;
  /** Pods the new nodes are for. */
  pods: string[];
  instanceType: string;
}

export interface PlanResult {
  scaleUps: GroupScaleUp[];
  /** Pods that fit on existing nodes' free capacity (the scheduler will get to them). */
  onExisting: string[];
  /** Pods that fit on nodes already requested, by group. */
  onUpcoming: Record<string, string[]>;
  /** Pods no group helps, with each group's reason. */
  unhelpable: { pod: string; reasons: Record<string, string> }[];
}

/** A packing: bins and every placement (bin, class, how many), flat to spare the garbage collector. */
interface Packing {
  bins: BinSet;
  placements: number[];
  pods: number;
}

function packing(table: ClassTable, hint?: number): Packing {
  return { bins: new BinSet(table.dims.length, hint), placements: [], pods: 0 };
}

function place(p: Packing, i: number, c: CountClass, n: number): void {
  p.bins.take(i, c.need, c.active, n);
  p.placements.push(i, c.index, n);
  p.pods += n;
}

/** First fit of `count` pods of the class into the bins already open; returns how many were placed. */
function fillOpen(p: Packing, c: CountClass, count: number, placeable?: (i: number) => boolean): number {
  let rest = count;
  let i = p.bins.firstFit(c.need, c.active, 0);
  while (i >= 0 && rest > 0) {
    const n = Math.min(p.bins.howMany(i, c.need, c.active), rest);
    if (n > 0 && (!placeable || placeable(i))) {
      place(p, i, c, n);
      rest -= n;
    }
    i = p.bins.firstFit(c.need, c.active, i + 1);
  }
  return count - rest;
}

/**
 * Names the pods of a packing, bin by bin, and marks them placed: each class hands out its keys from
 * the front in bin order, which is the order the pod-by-pod packing took them in (a class fills bins
 * in increasing order, and a bin's pods keep their placement order).
 */
function commit(table: ClassTable, p: Packing): string[] {
  const byBin: number[][] = [];
  for (let k = 0; k < p.placements.length; k += 3) (byBin[p.placements[k]!] ??= []).push(k);
  const taken = new Map<CountClass, number>();
  const out: string[] = [];
  for (const list of byBin) {
    for (const k of list ?? []) {
      const c = table.classes[p.placements[k + 1]!]!;
      const n = p.placements[k + 2]!;
      const from = c.next + (taken.get(c) ?? 0);
      for (let j = from; j < from + n; j++) out.push(c.keys[j]!);
      taken.set(c, (taken.get(c) ?? 0) + n);
    }
  }
  for (const [c, n] of taken) c.next += n;
  return out;
}

/**
 * First-fit decreasing of the classes' remaining pods onto at most `maxNewBins` new nodes of one shape
 * (as `pack.ts`'s `packNew`, by counts). The classes must fit the shape.
 */
function packNew(table: ClassTable, fitting: readonly boolean[], shape: NodeShape, maxNewBins: number): Packing {
  const p = packing(table);
  const empty = table.vector(shape.allocatable);
  for (const c of table.decreasing(shape.allocatable)) {
    if (!fitting[c.index]) continue;
    let rest = left(c) - fillOpen(p, c, left(c));
    const perNode = perAmount(c, empty);
    while (rest > 0 && p.bins.length < maxNewBins && perNode > 0) {
      const i = p.bins.open(empty);
      const n = Math.min(perNode, rest);
      place(p, i, c, n);
      rest -= n;
    }
  }
  return p;
}

/**
 * The scale-up decision, as a pure function:
 * 1. pods that fit on existing nodes' free capacity are left to the scheduler;
 * 2. pods that fit on upcoming nodes (asked for, not joined) wait for them — so a pod never scales twice;
 * 3. then, repeatedly: for each group that may grow, pack the remaining pods its template can hold
 *    (first-fit decreasing) into at most max − desired new nodes (and the cluster-wide cap); the
 *    expander picks one option; its pods are removed; until no pod is left or no group helps.
 * Pods are packed as counts of identical classes over bins indexed by free room (`bins.ts`), so a
 * decision costs about classes × log(nodes) per group, not pods × nodes.
 */
export function planScaleUp(input: PlanInput): PlanResult {
  const table = new ClassTable(input.pods);
  const classes = table.classes;
  const result: PlanResult = { scaleUps: [], onExisting: [], onUpcoming: {}, unhelpable: [] };
  const anyLeft = () => classes.some((c) => left(c) > 0);

  // 1. existing nodes
  if (input.nodes?.length) {
    const nodes = input.nodes;
    const p = packing(table, nodes.length);
    for (const n of nodes) p.bins.open(table.vector(n.node.allocatable, n.used));
    for (const c of table.decreasing(nodes[0]!.node.allocatable)) {
      if (left(c) > 0) fillOpen(p, c, left(c), (i) => !table.placementMismatch(c, nodes[i]!.node, `${i}`));
    }
    result.onExisting.push(...commit(table, p));
  }

  // 2. upcoming nodes of groups that are not blocked
  for (const g of input.groups) {
    if (!g.template || g.blocked || g.upcoming <= 0 || !anyLeft()) continue;
    const t = g.template;
    const p = packing(table, g.upcoming);
    const empty = table.vector(t.allocatable);
    for (let i = 0; i < g.upcoming; i++) p.bins.open(empty);
    for (const c of table.decreasing(t.allocatable)) {
      if (left(c) > 0 && !table.mismatch(c, g.name, t)) fillOpen(p, c, left(c));
    }
    const placed = commit(table, p);
    if (placed.length) result.onUpcoming[g.name] = placed;
  }

  // 3. new nodes
  let capLeft = input.maxNodesTotal && input.maxNodesTotal > 0 ? Math.max(0, input.maxNodesTotal - (input.currentNodes ?? 0)) : Infinity;
  const planned = new Map<string, number>();
  const expander = input.expander ?? 'least-waste';
  for (;;) {
    if (!anyLeft() || capLeft <= 0) break;
    const options: (ScaleUpOption & { packing: Packing })[] = [];
    for (const g of input.groups) {
      if (!g.template || g.blocked) continue;
      const t = g.template;
      const headroom = Math.min(g.max - g.desired - (planned.get(g.name) ?? 0), capLeft);
      if (headroom <= 0) continue;
      const fitting = classes.map((c) => left(c) > 0 && !table.mismatch(c, g.name, t));
      if (!fitting.includes(true)) continue;
      const p = packNew(table, fitting, t, headroom);
      const nodes = p.bins.length;
      if (nodes === 0) continue;
      // summed node by node, in the order the pod-by-pod planner summed them
      const requested: Resources = {};
      for (const [r, v] of Object.entries(t.allocatable)) {
        const d = table.dims.indexOf(r);
        let sum = 0;
        for (let i = 0; i < nodes; i++) sum += v - (d >= 0 ? p.bins.free(i, d) : v);
        requested[r] = sum;
      }
      options.push({ group: g.name, priority: g.priority, nodes, pods: p.pods, allocatable: t.allocatable, requested, packing: p });
    }
    const best = expand(expander, options, input.random) as (ScaleUpOption & { packing: Packing }) | undefined;
    if (!best) break;
    const pods = commit(table, best.packing);
    planned.set(best.group, (planned.get(best.group) ?? 0) + best.nodes);
    capLeft -= best.nodes;
    const g = input.groups.find((x) => x.name === best.group)!;
    const prev = result.scaleUps.find((s) => s.group === best.group);
    if (prev) {
      prev.to += best.nodes;
      prev.pods.push(...pods);
    } else {
      result.scaleUps.push({ group: g.name, from: g.desired, to: g.desired + best.nodes, pods, instanceType: g.template!.instanceType });
    }
  }

  // 4. what is left: say why, per group
  for (const c of classes) {
    if (left(c) === 0) continue;
    const reasons: Record<string, string> = {};
    for (const g of input.groups) {
      if (!g.template) reasons[g.name] = g.blocked ?? 'no node template';
      else if (g.blocked) reasons[g.name] = g.blocked;
      else {
        const m = table.mismatch(c, g.name, g.template);
        if (m) reasons[g.name] = m;
        else if (g.desired + (planned.get(g.name) ?? 0) >= g.max) reasons[g.name] = `max size ${g.max} reached`;
        else reasons[g.name] = capLeft <= 0 ? `cluster-wide node cap ${input.maxNodesTotal} reached` : 'no room left';
      }
    }
    for (const p of c.keys.slice(c.next)) result.unhelpable.push({ pod: p, reasons });
  }
  return result;
}

/** `g1: reason; g2: reason` — the NotTriggerScaleUp message body. */
export function formatReasons(reasons: Record<string, string>): string {
  const groups = Object.keys(reasons).sort();
  if (groups.length === 0) return 'no node group is configured';
  return groups.map((g) => `${g}: ${reasons[g]}`).join('; ');
}
