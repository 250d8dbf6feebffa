// Every ALB and target group this cluster's ingress-operator created, found by the owner tags (ELBv2 has
// no tag filters): core's ElbInventory for the ApplicationLoadBalancer kind. Lets a lost status and a
// deletion without a desired state still find what a crashed process made.
import { ElbInventory, type AwsClients } from '@kube-iaas/core';
import { ALB_KIND } from '../plan/desired.ts';

export class Inventory extends ElbInventory {
  constructor(clients: AwsClients) {
    super(clients, ALB_KIND);
  }
}
