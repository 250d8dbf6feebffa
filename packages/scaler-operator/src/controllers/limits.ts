import { classifyAwsError } from '@kube-iaas/core/aws';
import { hasFinalizer, isBeingDeleted, isKubeNotFound, removeFinalizer } from '@kube-iaas/core/runtime';
import type { NodeGroup } from '@kube-iaas/crds';
import { ASG_LIMITS_ANNOTATION, FINALIZER, Reasons } from '../constants.ts';
import { asgLimitsUpdate, type AsgView } from '../aws/groups.ts';
import { formatLimitsRecord, limitsRestore, nextLimitsRecord, parseLimitsRecord } from '../plan/limits.ts';
import { usable } from '../plan/node.ts';
import { NODE_GROUP_TYPE, type GroupView, type RunContext } from './state.ts';

/** `spec.manageAsgLimits`: write the spec's min/max onto the ASG. A failure is reported, scaling goes on within the ASG's limits. */
export async function syncLimits(ctx: RunContext, v: GroupView, asg: AsgView): Promise<void> {
  const { d } = ctx;
  const update = asgLimitsUpdate(v.ng.spec, asg);
  if (!update) return;
  const m = ctx.memory.get(v.name);
  try {
    // What the limits were goes on the NodeGroup (with a finalizer) before they change, so they can be
    // put back when it goes, also by a restarted operator. resourceVersion: never from a stale cache.
    const previous = parseLimitsRecord(v.ng.metadata.annotations?.[ASG_LIMITS_ANNOTATION]);
    const record = nextLimitsRecord(previous, asg.name, asg, { minSize: update.MinSize, maxSize: update.MaxSize });
    const finalizers = v.ng.metadata.finalizers ?? [];
    v.ng = await d.kube.patch<NodeGroup>(NODE_GROUP_TYPE, { name: v.name }, {
      metadata: {
        resourceVersion: v.ng.metadata.resourceVersion,
        annotations: { [ASG_LIMITS_ANNOTATION]: formatLimitsRecord(record) },
        finalizers: finalizers.includes(FINALIZER) ? finalizers : [...finalizers, FINALIZER],
      },
    });
  } catch (err) {
    // Not written down, not changed: tried again in the next run.
    d.log.warn({ nodeGroup: v.name, err: String(err) }, 'could not record the ASG limits before changing them');
    v.max = Math.min(v.max, asg.maxSize);
    v.min = Math.max(v.min, asg.minSize);
    return;
  }
  try {
    await d.provider.updateLimits(asg.name, update);
  } catch (err) {
    const c = classifyAwsError(err);
    const msg = `UpdateAutoScalingGroup MinSize=${update.MinSize} MaxSize=${update.MaxSize} failed: ${c.code}: ${c.message}`;
    if (m.lastLimitsError !== msg) d.events.warning(v.ng, Reasons.AsgLimitsFailed, msg, { type: NODE_GROUP_TYPE });
    m.lastLimitsError = msg;
    d.log.warn({ nodeGroup: v.name, err: msg }, 'could not write spec limits to the ASG');
    v.max = Math.min(v.max, asg.maxSize);
    return;
  }
  m.lastLimitsError = undefined;
  const from = `${asg.minSize}/${asg.maxSize}`;
  asg.minSize = update.MinSize;
  asg.maxSize = update.MaxSize;
  if (update.DesiredCapacity !== undefined) v.desired = asg.desiredCapacity = update.DesiredCapacity;
  v.upcoming = Math.max(0, v.desired - v.registered.filter(usable).length);
  const msg = `ASG ${asg.name} MinSize/MaxSize ${from} -> ${update.MinSize}/${update.MaxSize} (spec.manageAsgLimits)${update.DesiredCapacity !== undefined ? `, desired capacity ${update.DesiredCapacity}` : ''}`;
  d.events.normal(v.ng, Reasons.AsgLimitsUpdated, msg, { type: NODE_GROUP_TYPE });
  d.log.info({ nodeGroup: v.name, minSize: update.MinSize, maxSize: update.MaxSize, desired: update.DesiredCapacity }, 'wrote spec limits to the ASG');
}

/**
 * NodeGroups that no longer manage their ASG's limits (being deleted, `manageAsgLimits` turned off, or
 * `spec.asgName` pointed elsewhere) put back the limits they changed (`limitsRestore`), then drop the
 * record and the finalizer (a new ASG gets a record of its own on its first write). A
 * retryable failure keeps both for the next run; one that cannot pass (the ASG is gone, or no longer
 * ours to change) is reported and lets the NodeGroup go.
 */
export async function releaseLimits(ctx: RunContext): Promise<void> {
  const { d } = ctx;
  const done = d.nodeGroups.list().filter((ng) => {
    const deleting = isBeingDeleted(ng);
    const raw = ng.metadata.annotations?.[ASG_LIMITS_ANNOTATION];
    if (deleting) return hasFinalizer(ng, FINALIZER);
    return raw !== undefined && (ng.spec.manageAsgLimits !== true || parseLimitsRecord(raw)?.asgName !== ng.spec.asgName);
  });
  if (done.length === 0) return;
  const records = done.map((ng) => parseLimitsRecord(ng.metadata.annotations?.[ASG_LIMITS_ANNOTATION]));
  const asgs = await d.provider.describe(records.flatMap((r) => (r ? [r.asgName] : [])));
  for (const [i, ng] of done.entries()) {
    const name = ng.metadata.name ?? '';
    const record = records[i];
    const asg = record ? asgs.get(record.asgName) : undefined;
    if (record && !asg) d.events.warning(ng, Reasons.AsgLimitsKept, `ASG ${record.asgName} no longer exists; no limits to put back`, { type: NODE_GROUP_TYPE });
    if (record && asg) {
      const plan = limitsRestore(record, asg);
      if (plan.action === 'write') {
        try {
          await d.provider.updateLimits(asg.name, plan.limits);
          d.events.normal(ng, Reasons.AsgLimitsRestored, plan.message, { type: NODE_GROUP_TYPE });
          d.log.info({ nodeGroup: name, asg: asg.name, minSize: plan.limits.MinSize, maxSize: plan.limits.MaxSize }, 'put the ASG limits back');
        } catch (err) {
          const c = classifyAwsError(err);
          d.events.warning(ng, Reasons.AsgLimitsFailed, `putting back ASG ${asg.name} MinSize/MaxSize ${plan.limits.MinSize}/${plan.limits.MaxSize} failed: ${c.code}: ${c.message}`, { type: NODE_GROUP_TYPE });
          if (c.kind !== 'terminal' && c.kind !== 'not-found') continue;
        }
      } else if (plan.action === 'leave') {
        d.events.warning(ng, Reasons.AsgLimitsKept, plan.message, { type: NODE_GROUP_TYPE });
      }
    }
    try {
      if (isBeingDeleted(ng)) await removeFinalizer(d.kube, NODE_GROUP_TYPE, ng, FINALIZER);
      else {
        await d.kube.patch(NODE_GROUP_TYPE, { name }, {
          metadata: { resourceVersion: ng.metadata.resourceVersion, annotations: { [ASG_LIMITS_ANNOTATION]: null }, finalizers: (ng.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) },
        });
      }
    } catch (err) {
      if (!isKubeNotFound(err)) d.log.warn({ nodeGroup: name, err: String(err) }, 'could not drop the ASG limits record');
    }
  }
}
