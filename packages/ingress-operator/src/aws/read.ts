// The actual AWS state of one ApplicationLoadBalancer: packages/elbv2's read, given what status recorded.
// A lost status (or a deletion without a desired state) also looks up the names this owner would have had
// under either scheme, so an ALB of the previous scheme is found (and replaced) rather than left behind.
import type { ApplicationLoadBalancerStatus } from '@kube-iaas/crds';
import type { AwsClients } from '@kube-iaas/core/aws';
import type { OwnerRef } from '@kube-iaas/core/tags';
import { loadBalancerName, readActual as readOwner, type ActualState, type Model } from '@kube-iaas/elbv2';
import type { Inventory } from './inventory.ts';

export interface ReadInputs {
  clients: AwsClients;
  owner: OwnerRef;
  status?: ApplicationLoadBalancerStatus | undefined;
  /** When reconciling (not deleting): names to look up and which attributes to read. */
  desired?: Model | undefined;
  inventory?: Inventory | undefined;
  /** Node security groups that may hold this owner's backend rules (status adds the recorded ones). */
  nodeSecurityGroupIds: readonly string[];
}

export function readActual(i: ReadInputs): Promise<ActualState> {
  const { clients, owner, status, desired } = i;
  const names: string[] = [];
  if (!desired || !status?.loadBalancerArn) {
    const base = { cluster: clients.cluster, namespace: owner.namespace ?? '', name: owner.name, uid: owner.uid };
    for (const scheme of ['internet-facing', 'internal']) names.push(loadBalancerName({ ...base, scheme }));
    if (status?.loadBalancerName) names.push(status.loadBalancerName);
  }
  const known = {
    loadBalancerArn: status?.loadBalancerArn,
    targetGroupArns: (status?.targetGroups ?? []).flatMap((t) => (t.targetGroupArn ? [t.targetGroupArn] : [])),
    nodeGroupIds: (status?.securityGroupRules ?? []).map((r) => r.securityGroupId),
  };
  return readOwner({ clients, owner, known, desired, names, inventory: i.inventory, nodeSecurityGroupIds: i.nodeSecurityGroupIds, groupSourcedNodeRules: true });
}
