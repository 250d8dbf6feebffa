// Every ALB and target group this cluster's ingress-operator created, found by the owner tags: the ELBv2
// layer's inventory for the ApplicationLoadBalancer kind. Lets a lost status and a deletion without a
// desired state still find what a crashed process made.
import type { AwsClients } from '@kube-iaas/core/aws';
import { ElbInventory } from '@kube-iaas/elbv2';
import { ALB_KIND } from '../plan/desired.ts';

export class Inventory extends ElbInventory {
  constructor(clients: AwsClients) {
    super(clients, ALB_KIND);
  }
}
