// Every NLB and target group this cluster's lb-operator created, found by the owner tags: core's
// ElbInventory for the NetworkLoadBalancer kind.
import { ElbInventory, type AwsClients, type ElbInventoryEntry, type ElbInventoryKind } from '@kube-iaas/core';
import { NLB_KIND } from '../plan/desired.ts';

export type InventoryKind = ElbInventoryKind;
export type InventoryEntry = ElbInventoryEntry;

export class Inventory extends ElbInventory {
  constructor(clients: AwsClients) {
    super(clients, NLB_KIND);
  }
}
