// Pure: the load balancer's own security group (kept, created or none) and its client rules.
import { diffByKey, diffTags } from '@kube-iaas/core/runtime';
import type { SecurityGroupChange, TagChange } from '../changes.ts';
import { OWN_GROUP, type ActualSecurityGroup, type GroupRule, type SecurityGroupModel } from '../model.ts';

export const groupRuleKey = (r: GroupRule): string => `${r.protocol}|${r.fromPort}|${r.toPort}|${r.cidr}`;

/** The group to keep: the one with the model's name, else the first by ID. */
export function pickGroup(desired: SecurityGroupModel, groups: readonly ActualSecurityGroup[]): ActualSecurityGroup | undefined {
  return groups.find((g) => g.name === desired.name) ?? [...groups].sort((a, b) => (a.id < b.id ? -1 : 1))[0];
}

export interface SecurityGroupDiff {
  keep?: ActualSecurityGroup;
  /** The group's ID, or `OWN_GROUP` while the plan creates it; undefined without a group. */
  groupId?: string;
  /** Create, open, tag: before the load balancer uses the group. */
  apply: Array<SecurityGroupChange | TagChange>;
  /** Stale rules: after the listeners moved. */
  revoke: SecurityGroupChange[];
}

export function diffSecurityGroup(desired: SecurityGroupModel | undefined, actual: readonly ActualSecurityGroup[]): SecurityGroupDiff {
  if (!desired) return { apply: [], revoke: [] };
  const keep = pickGroup(desired, actual);
  const groupId = keep?.id ?? OWN_GROUP;
  const apply: Array<SecurityGroupChange | TagChange> = [];
  const revoke: SecurityGroupChange[] = [];
  if (!keep) apply.push({ op: 'createSecurityGroup', group: desired });
  const rules = diffByKey(desired.ingress, keep?.ingress ?? [], { desiredKey: groupRuleKey, actualKey: groupRuleKey, equal: () => true });
  if (rules.toCreate.length > 0) apply.push({ op: 'authorizeGroupIngress', groupId, rules: rules.toCreate, ...(desired.ruleDescription ? { description: desired.ruleDescription } : {}) });
  if (keep) {
    const tags = diffTags(desired.tags, keep.tags);
    if (!tags.empty) apply.push({ op: 'addTags', arns: [keep.id], tags: tags.toAdd });
    if (rules.toDelete.length > 0) revoke.push({ op: 'revokeGroupIngress', groupId: keep.id, rules: rules.toDelete });
  }
  return { ...(keep ? { keep } : {}), groupId, apply, revoke };
}

/**
 * Groups of the owner that no load balancer will use: a duplicate after a crash, or the group of a load
 * balancer that no longer has one. Groups still attached to the kept load balancer wait until it lets go.
 */
export function unusedGroups(actual: readonly ActualSecurityGroup[], keep: ActualSecurityGroup | undefined, attached: readonly string[]): SecurityGroupChange[] {
  const inUse = new Set([...(keep ? [keep.id] : []), ...attached]);
  return actual.filter((g) => !inUse.has(g.id)).map((g) => ({ op: 'deleteSecurityGroup', groupId: g.id, name: g.name }));
}
