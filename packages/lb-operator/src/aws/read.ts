// The actual AWS state of one NetworkLoadBalancer: packages/elbv2's read, given what status recorded.
import type { NetworkLoadBalancerStatus } from '@kube-iaas/crds';
import { readActual as readOwner, type ActualState, type Model } from '@kube-iaas/elbv2';
import type { AwsClients } from '@kube-iaas/core/aws';
import type { OwnerRef } from '@kube-iaas/core/tags';
import type { Inventory } from './inventory.ts';

export interface ReadInputs {
  clients: AwsClients;
  owner: OwnerRef;
  status?: NetworkLoadBalancerStatus | undefined;
  /** When reconciling (not deleting): names to look up and which attributes to read. */
  desired?: Model | undefined;
  inventory?: Inventory | undefined;
  /** Groups that may hold this owner's rules (the desired ones; status adds the recorded ones). */
  securityGroupIds: readonly string[];
}

/** ARNs and groups a NetworkLoadBalancer's status recorded. */
export function knownFrom(status: NetworkLoadBalancerStatus | undefined) {
  return {
    loadBalancerArn: status?.loadBalancerArn,
    targetGroupArns: (status?.targetGroups ?? []).flatMap((t) => (t.targetGroupArn ? [t.targetGroupArn] : [])),
    nodeGroupIds: (status?.securityGroupRules ?? []).map((r) => r.securityGroupId),
  };
}

export function readActual(i: ReadInputs): Promise<ActualState> {
  return readOwner({ clients: i.clients, owner: i.owner, known: knownFrom(i.status), desired: i.desired, inventory: i.inventory, nodeSecurityGroupIds: i.securityGroupIds });
}
