// Every NLB and target group this cluster's lb-operator created, found by the owner tags: the ELBv2
// layer's inventory for the NetworkLoadBalancer kind.
import type { AwsClients } from '@kube-iaas/core/aws';
import { ElbInventory, type ElbInventoryEntry, type ElbInventoryKind } from '@kube-iaas/elbv2';
import { NLB_KIND } from '../plan/desired.ts';

export type InventoryKind = ElbInventoryKind;
export type InventoryEntry = ElbInventoryEntry;

export class Inventory extends ElbInventory {
  constructor(clients: AwsClients) {
    super(clients, NLB_KIND);
  }
}
