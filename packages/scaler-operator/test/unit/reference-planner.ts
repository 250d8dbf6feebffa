// The pod-by-pod planner as it was before classes were packed as counts over indexed bins: the
// reference the fast planner must agree with on every input (same scale-ups, same pods, same order).
import type { Resources } from '../../src/quantity.ts';
import { expand, type ScaleUpOption } from '../../src/plan/expander.ts';
import { fitMismatch } from '../../src/plan/match.ts';
import { classify, firstFit, newBin, packNew, sortDecreasing, type Bin, type PodClass } from '../../src/plan/pack.ts';
import type { PlanInput, PlanResult } from '../../src/plan/planner.ts';

function clone(classes: readonly PodClass[]): PodClass[] {
  return classes.map((c) => ({ ...c, pods: [...c.pods] }));
}

function remaining(classes: readonly PodClass[]): number {
  let n = 0;
  for (const c of classes) n += c.pods.length;
  return n;
}

/**
 * The scale-up decision, as a pure function:
 * 1. pods that fit on existing nodes' free capacity are left to the scheduler;
 * 2. pods that fit on upcoming nodes (asked for, not joined) wait for them — so a pod never scales twice;
 * 3. then, repeatedly: for each group that may grow, pack the remaining pods its template can hold
 *    (first-fit decreasing) into at most max − desired new nodes (and the cluster-wide cap); the
 *    expander picks one option; its pods are removed; until no pod is left or no group helps.
 */
export function referencePlanScaleUp(input: PlanInput): PlanResult {
  const classes = classify(input.pods);
  const result: PlanResult = { scaleUps: [], onExisting: [], onUpcoming: {}, unhelpable: [] };

  // 1. existing nodes
  if (input.nodes?.length) {
    const bins = input.nodes.map((n) => newBin(n.node, n.used));
    const ref = input.nodes[0]!.node.allocatable;
    firstFit(sortDecreasing([...classes], ref), bins);
    for (const b of bins) result.onExisting.push(...b.pods);
  }

  // 2. upcoming nodes of groups that are not blocked
  for (const g of input.groups) {
    if (!g.template || g.blocked || g.upcoming <= 0 || remaining(classes) === 0) continue;
    const t = g.template;
    const fitting = classes.filter((c) => c.pods.length > 0 && !fitMismatch(c.sample, t));
    if (fitting.length === 0) continue;
    const bins: Bin[] = Array.from({ length: g.upcoming }, () => newBin(t));
    firstFit(sortDecreasing(fitting, t.allocatable), bins);
    const placed = bins.flatMap((b) => b.pods);
    if (placed.length) result.onUpcoming[g.name] = placed;
  }

  // 3. new nodes
  let capLeft = input.maxNodesTotal && input.maxNodesTotal > 0 ? Math.max(0, input.maxNodesTotal - (input.currentNodes ?? 0)) : Infinity;
  const planned = new Map<string, number>();
  const expander = input.expander ?? 'least-waste';
  for (;;) {
    if (remaining(classes) === 0 || capLeft <= 0) break;
    const options: ScaleUpOption[] = [];
    for (const g of input.groups) {
      if (!g.template || g.blocked) continue;
      const t = g.template;
      const headroom = Math.min(g.max - g.desired - (planned.get(g.name) ?? 0), capLeft);
      if (headroom <= 0) continue;
      const fitting = classes.filter((c) => c.pods.length > 0 && !fitMismatch(c.sample, t));
      if (fitting.length === 0) continue;
      const trial = clone(fitting);
      const bins = packNew(trial, t, headroom);
      if (bins.length === 0) continue;
      const pods = bins.flatMap((b) => b.pods);
      const requested: Resources = {};
      for (const b of bins) for (const [r, v] of Object.entries(t.allocatable)) requested[r] = (requested[r] ?? 0) + (v - (b.free[r] ?? 0));
      options.push({ group: g.name, priority: g.priority, nodes: bins.length, pods, allocatable: t.allocatable, requested });
    }
    const best = expand(expander, options, input.random) as (ScaleUpOption & { pods: string[] }) | undefined;
    if (!best) break;
    // commit: remove the chosen pods from their classes
    const chosen = new Set(best.pods);
    for (const c of classes) if (c.pods.length) c.pods = c.pods.filter((p) => !chosen.has(p));
    planned.set(best.group, (planned.get(best.group) ?? 0) + best.nodes);
    capLeft -= best.nodes;
    const g = input.groups.find((x) => x.name === best.group)!;
    const prev = result.scaleUps.find((s) => s.group === best.group);
    if (prev) {
      prev.to += best.nodes;
      prev.pods.push(...best.pods);
    } else {
      result.scaleUps.push({ group: g.name, from: g.desired, to: g.desired + best.nodes, pods: [...best.pods], instanceType: g.template!.instanceType });
    }
  }

  // 4. what is left: say why, per group
  for (const c of classes) {
    if (c.pods.length === 0) continue;
    const reasons: Record<string, string> = {};
    for (const g of input.groups) {
      if (!g.template) reasons[g.name] = g.blocked ?? 'no node template';
      else if (g.blocked) reasons[g.name] = g.blocked;
      else {
        const m = fitMismatch(c.sample, g.template);
        if (m) reasons[g.name] = m;
        else if (g.desired + (planned.get(g.name) ?? 0) >= g.max) reasons[g.name] = `max size ${g.max} reached`;
        else reasons[g.name] = capLeft <= 0 ? `cluster-wide node cap ${input.maxNodesTotal} reached` : 'no room left';
      }
    }
    for (const p of c.pods) result.unhelpable.push({ pod: p, reasons });
  }
  return result;
}

