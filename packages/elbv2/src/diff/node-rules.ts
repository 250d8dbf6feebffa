// Pure: rules on the cluster's node security groups that let the load balancer (or its clients) reach
// the NodePorts. Only rules whose description names the owner are ever read, so others' stay untouched.
import { diffByKey } from '@kube-iaas/core/runtime';
import type { NodeRuleChange } from '../changes.ts';
import { OWN_GROUP, type ActualNodeRule, type NodeRule } from '../model.ts';

export const nodeRuleKey = (r: NodeRule): string => `${r.groupId}|${r.protocol}|${r.port}|${r.cidr ?? ''}|${r.sourceGroupId ?? ''}`;

export interface NodeRuleDiff {
  authorize: NodeRuleChange[];
  revoke: NodeRuleChange[];
}

/** `ownGroupId`: the load balancer's group (or `OWN_GROUP` while the plan creates it). */
export function diffNodeRules(desired: readonly NodeRule[], actual: readonly ActualNodeRule[], description: string, ownGroupId = OWN_GROUP): NodeRuleDiff {
  const want = desired.map((r) => (r.sourceGroupId === OWN_GROUP ? { ...r, sourceGroupId: ownGroupId } : r));
  const d = diffByKey(want, actual, { desiredKey: nodeRuleKey, actualKey: nodeRuleKey, equal: () => true });
  return {
    authorize: d.toCreate.length > 0 ? [{ op: 'authorizeNodeRules', rules: d.toCreate, description }] : [],
    revoke: d.toDelete.length > 0 ? [{ op: 'revokeNodeRules', rules: d.toDelete }] : [],
  };
}
