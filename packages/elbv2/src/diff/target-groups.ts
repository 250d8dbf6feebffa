// Pure: target groups by AWS name (the name encodes what AWS cannot change: protocol, port), their
// health checks, attributes, tags and registered instances.
import { changedEntries, diffByKey, diffSets, diffTags } from '@kube-iaas/core/runtime';
import type { TagChange, TargetGroupChange } from '../changes.ts';
import type { ActualTargetGroup, HealthCheck, TargetGroupModel } from '../model.ts';

/** Fields the model sets that AWS holds otherwise (fields it leaves unset are not compared). */
export function healthCheckDiffers(desired: HealthCheck, actual: Partial<HealthCheck>): boolean {
  const fields: Array<keyof HealthCheck> = ['protocol', 'port', 'intervalSeconds', 'timeoutSeconds', 'healthyThreshold', 'unhealthyThreshold', 'path', 'successCodes'];
  return fields.some((f) => desired[f] !== undefined && desired[f] !== actual[f]);
}

export interface TargetGroupDiff {
  /** Creates and updates: before the listeners forward to them. */
  apply: Array<TargetGroupChange | TagChange>;
  register: TargetGroupChange[];
  deregister: TargetGroupChange[];
  /** Unused groups: after the listeners and load balancers that forwarded to them are gone. */
  remove: TargetGroupChange[];
}

export function diffTargetGroups(desired: readonly TargetGroupModel[], actual: readonly ActualTargetGroup[], targets: readonly string[]): TargetGroupDiff {
  const out: TargetGroupDiff = { apply: [], register: [], deregister: [], remove: [] };
  const d = diffByKey(desired, actual, { desiredKey: (t) => t.name, actualKey: (t) => t.name, equal: () => true });
  for (const tg of d.toCreate) {
    out.apply.push({ op: 'createTargetGroup', tg });
    if (Object.keys(tg.attributes).length > 0) out.apply.push({ op: 'modifyTargetGroupAttributes', targetGroupName: tg.name, attributes: tg.attributes });
    if (targets.length > 0) out.register.push({ op: 'registerTargets', targetGroupName: tg.name, ids: [...targets] });
  }
  for (const { desired: tg, actual: a } of d.unchanged) {
    if (healthCheckDiffers(tg.healthCheck, a.healthCheck)) out.apply.push({ op: 'modifyTargetGroup', arn: a.arn, name: a.name, healthCheck: tg.healthCheck });
    const attributes = changedEntries(tg.attributes, a.attributes);
    if (Object.keys(attributes).length > 0) out.apply.push({ op: 'modifyTargetGroupAttributes', targetGroupName: tg.name, attributes });
    const tags = diffTags(tg.tags, a.tags);
    if (!tags.empty) out.apply.push({ op: 'addTags', arns: [a.arn], tags: tags.toAdd });
    const s = diffSets(targets, a.targets);
    if (s.toAdd.length > 0) out.register.push({ op: 'registerTargets', targetGroupName: tg.name, ids: s.toAdd });
    if (s.toRemove.length > 0) out.deregister.push({ op: 'deregisterTargets', arn: a.arn, name: a.name, ids: s.toRemove });
  }
  for (const tg of d.toDelete) out.remove.push({ op: 'deleteTargetGroup', arn: tg.arn, name: tg.name });
  return out;
}
