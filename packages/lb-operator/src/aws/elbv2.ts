// Adapters from core's ELBv2 reads (packages/core/src/aws/elbv2.ts) to this operator's plan types.
import {
  describeListeners as coreDescribeListeners,
  describeTargetHealth as coreDescribeTargetHealth,
  findTargetGroups,
  forwardTargetGroupArn,
  registeredTargets,
  type Tags,
} from '@kube-iaas/core';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ActualListener, HealthCheckSettings } from '../plan/types.ts';

export { describeLoadBalancerAttributes, describeTargetGroupAttributes } from '@kube-iaas/core';

/** An NLB's listeners as the planner sees them: the target group of the default forward. */
export async function describeListeners(elbv2: ElasticLoadBalancingV2Client, loadBalancerArn: string): Promise<ActualListener[]> {
  return (await coreDescribeListeners(elbv2, loadBalancerArn)).map((l) => {
    const listener: ActualListener = { arn: l.arn, loadBalancerArn: l.loadBalancerArn, port: l.port, protocol: l.protocol, certificateArns: l.certificateArns };
    const tgArn = forwardTargetGroupArn(l.defaultActions);
    if (tgArn) listener.targetGroupArn = tgArn;
    if (l.sslPolicy) listener.sslPolicy = l.sslPolicy;
    if (l.alpnPolicy) listener.alpnPolicy = l.alpnPolicy;
    return listener;
  });
}

export interface FullTargetGroup {
  arn: string;
  name: string;
  protocol?: string;
  port?: number;
  vpcId?: string;
  loadBalancerArns: string[];
  healthCheck: Partial<HealthCheckSettings>;
  tags: Tags;
}

/** Target groups by ARNs and names at once, with the health check as the planner compares it. */
export async function describeTargetGroupsFull(elbv2: ElasticLoadBalancingV2Client, q: { arns: string[]; names: string[] }): Promise<FullTargetGroup[]> {
  return (await findTargetGroups(elbv2, q)).map((tg) => {
    const { protocol, ...rest } = tg.healthCheck;
    const healthCheck: Partial<HealthCheckSettings> = { ...rest };
    if (protocol) healthCheck.protocol = protocol as HealthCheckSettings['protocol'];
    const out: FullTargetGroup = { arn: tg.arn, name: tg.name, loadBalancerArns: tg.loadBalancerArns, healthCheck, tags: tg.tags };
    if (tg.protocol) out.protocol = tg.protocol;
    if (tg.port !== undefined) out.port = tg.port;
    if (tg.vpcId) out.vpcId = tg.vpcId;
    return out;
  });
}

/** Registered instance IDs and how many are healthy. */
export async function describeTargetHealth(elbv2: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<{ ids: string[]; healthy: number }> {
  return registeredTargets(await coreDescribeTargetHealth(elbv2, targetGroupArn));
}
