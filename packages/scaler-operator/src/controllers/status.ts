import { isKubeNotFound, rfc3339, setConditions, type Condition, type ConditionUpdate } from '@kube-iaas/core/runtime';
import { Reasons } from '../constants.ts';
import { formatResources } from '../quantity.ts';
import { NODE_GROUP_TYPE, type GroupView, type RunContext } from './state.ts';

/** Every NodeGroup's status: conditions (Ready, Backoff), sizes, last scale-up/down, node template. */
export async function writeStatuses(ctx: RunContext, groups: GroupView[]): Promise<void> {
  const { d } = ctx;
  const now = new Date(ctx.now());
  for (const v of groups) {
    const m = ctx.memory.get(v.name);
    const gen = v.ng.metadata.generation;
    const updates: ConditionUpdate[] = [];
    if (v.problem) {
      updates.push({ type: 'Ready', status: false, reason: v.problem.reason, message: v.problem.message, ...(gen !== undefined ? { observedGeneration: gen } : {}) });
      if (m.lastProblem !== v.problem.message) d.events.warning(v.ng, v.problem.reason === 'Conflict' ? Reasons.Conflict : Reasons.InvalidNodeGroup, v.problem.message, { type: NODE_GROUP_TYPE });
      m.lastProblem = v.problem.message;
    } else {
      m.lastProblem = undefined;
      updates.push({ type: 'Ready', status: true, reason: 'Active', message: `ASG ${v.asg?.name} is scaled by the operator`, ...(gen !== undefined ? { observedGeneration: gen } : {}) });
    }
    const backingOff = !!(m.backoffUntil && m.backoffUntil > now.getTime());
    updates.push({ type: 'Backoff', status: backingOff, reason: backingOff ? 'ScaleUpFailed' : 'NoBackoff', message: backingOff ? (m.backoffReason ?? '') : '' });
    const conditions: Condition[] = setConditions(v.ng.status?.conditions as Condition[] | undefined, updates, now);
    const t = v.template;
    const status: Record<string, unknown> = {
      observedGeneration: gen,
      conditions,
      asgArn: v.asg?.arn ?? null,
      minSize: v.min,
      maxSize: v.max,
      desired: v.desired,
      current: v.current,
      ready: v.ready,
      upcoming: v.upcoming,
      lastScaleUp: m.lastScaleUp ?? null,
      lastScaleDown: m.lastScaleDown ?? null,
      backoffUntil: backingOff ? rfc3339(new Date(m.backoffUntil!)) : null,
      backoffReason: backingOff ? (m.backoffReason ?? '') : null,
      nodeTemplate: t
        ? {
            source: t.source,
            instanceTypes: t.instanceTypes,
            zones: t.zones,
            capacity: formatResources(t.capacity),
            allocatable: formatResources(t.allocatable),
            labels: t.labels,
            taints: t.taints.map((x) => ({ key: x.key, value: x.value ?? '', effect: x.effect })),
            maxPods: t.maxPods,
          }
        : null,
    };
    try {
      await d.status.merge(NODE_GROUP_TYPE, v.ng, status);
    } catch (err) {
      if (!isKubeNotFound(err)) d.log.warn({ nodeGroup: v.name, err: String(err) }, 'status write failed');
    }
  }
}
