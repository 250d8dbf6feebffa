// ELBv2 describes core does not have yet (listeners, full target groups, target health, attributes).
// TODO(core): move to core — packages/core/src/aws/describe.ts (see README "Needs from core").
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetGroup as SdkTargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeElbTags, isNotFound, type Tags } from '@kube-iaas/core';
import type { ActualListener, HealthCheckSettings } from '../plan/types.ts';

/** TODO(core): move to core — `describeListeners(elbv2, loadBalancerArn): Promise<Listener[]>`. */
export async function describeListeners(elbv2: ElasticLoadBalancingV2Client, loadBalancerArn: string): Promise<ActualListener[]> {
  const out: ActualListener[] = [];
  let marker: string | undefined;
  try {
    do {
      const res = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }));
      for (const l of res.Listeners ?? []) {
        const forward = l.DefaultActions?.find((a) => a.Type === 'forward');
        const tgArn = forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
        const listener: ActualListener = {
          arn: l.ListenerArn ?? '',
          loadBalancerArn,
          port: l.Port ?? 0,
          protocol: l.Protocol ?? '',
          certificateArns: (l.Certificates ?? []).flatMap((c) => (c.CertificateArn ? [c.CertificateArn] : [])),
        };
        if (tgArn) listener.targetGroupArn = tgArn;
        if (l.SslPolicy) listener.sslPolicy = l.SslPolicy;
        if (l.AlpnPolicy?.[0]) listener.alpnPolicy = l.AlpnPolicy[0];
        out.push(listener);
      }
      marker = res.NextMarker;
    } while (marker);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
  return out.sort((a, b) => a.port - b.port);
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

function toFull(tg: SdkTargetGroup, tags: Tags): FullTargetGroup {
  const hc: Partial<HealthCheckSettings> = {};
  if (tg.HealthCheckProtocol) hc.protocol = tg.HealthCheckProtocol as HealthCheckSettings['protocol'];
  if (tg.HealthCheckPort) hc.port = tg.HealthCheckPort;
  if (tg.HealthCheckPath) hc.path = tg.HealthCheckPath;
  if (tg.HealthCheckIntervalSeconds !== undefined) hc.intervalSeconds = tg.HealthCheckIntervalSeconds;
  if (tg.HealthCheckTimeoutSeconds !== undefined) hc.timeoutSeconds = tg.HealthCheckTimeoutSeconds;
  if (tg.HealthyThresholdCount !== undefined) hc.healthyThreshold = tg.HealthyThresholdCount;
  if (tg.UnhealthyThresholdCount !== undefined) hc.unhealthyThreshold = tg.UnhealthyThresholdCount;
  if (tg.Matcher?.HttpCode) hc.successCodes = tg.Matcher.HttpCode;
  const out: FullTargetGroup = { arn: tg.TargetGroupArn ?? '', name: tg.TargetGroupName ?? '', loadBalancerArns: [...new Set(tg.LoadBalancerArns ?? [])], healthCheck: hc, tags };
  if (tg.Protocol) out.protocol = tg.Protocol;
  if (tg.Port !== undefined) out.port = tg.Port;
  if (tg.VpcId) out.vpcId = tg.VpcId;
  return out;
}

async function describeTgPages(elbv2: ElasticLoadBalancingV2Client, input: { TargetGroupArns?: string[]; Names?: string[] }): Promise<SdkTargetGroup[]> {
  const out: SdkTargetGroup[] = [];
  let marker: string | undefined;
  do {
    const res = await elbv2.send(new DescribeTargetGroupsCommand({ ...input, Marker: marker }));
    out.push(...(res.TargetGroups ?? []));
    marker = res.NextMarker;
  } while (marker);
  return out;
}

/** Describes by ARNs or names; missing ones are left out (one lookup each after a not-found). */
async function lenientTgs(elbv2: ElasticLoadBalancingV2Client, key: 'TargetGroupArns' | 'Names', values: string[]): Promise<SdkTargetGroup[]> {
  if (values.length === 0) return [];
  try {
    return await describeTgPages(elbv2, { [key]: values });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    if (values.length === 1) return [];
    const out: SdkTargetGroup[] = [];
    for (const v of values) out.push(...(await lenientTgs(elbv2, key, [v])));
    return out;
  }
}

/**
 * TODO(core): move to core — `describeTargetGroups` with the health check timeout and matcher
 * (core's `TargetGroup.healthCheck` lacks `timeoutSeconds` and `successCodes`), by ARNs and names at once.
 */
export async function describeTargetGroupsFull(elbv2: ElasticLoadBalancingV2Client, q: { arns: string[]; names: string[] }): Promise<FullTargetGroup[]> {
  const byArn = await lenientTgs(elbv2, 'TargetGroupArns', [...new Set(q.arns)]);
  const found = new Set(byArn.map((t) => t.TargetGroupName));
  const byName = await lenientTgs(elbv2, 'Names', [...new Set(q.names)].filter((n) => !found.has(n)));
  const all = new Map<string, SdkTargetGroup>();
  for (const t of [...byArn, ...byName]) if (t.TargetGroupArn) all.set(t.TargetGroupArn, t);
  if (all.size === 0) return [];
  const tags = await describeElbTags(elbv2, [...all.keys()]);
  return [...all.values()].map((t) => toFull(t, tags.get(t.TargetGroupArn ?? '') ?? {}));
}

/** TODO(core): move to core — `describeTargetHealth(elbv2, targetGroupArn)`. Registered instance IDs and how many are healthy. */
export async function describeTargetHealth(elbv2: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<{ ids: string[]; healthy: number }> {
  try {
    const res = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    const ids = new Set<string>();
    let healthy = 0;
    for (const d of res.TargetHealthDescriptions ?? []) {
      if (!d.Target?.Id) continue;
      // A draining target is on its way out: it no longer counts as registered.
      if (d.TargetHealth?.State === 'draining') continue;
      ids.add(d.Target.Id);
      if (d.TargetHealth?.State === 'healthy') healthy++;
    }
    return { ids: [...ids].sort(), healthy };
  } catch (e) {
    if (isNotFound(e)) return { ids: [], healthy: 0 };
    throw e;
  }
}

/** TODO(core): move to core — load balancer / target group attributes as a map. */
export async function describeLoadBalancerAttributes(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<Record<string, string>> {
  const res = await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
  return Object.fromEntries((res.Attributes ?? []).flatMap((a) => (a.Key ? [[a.Key, a.Value ?? '']] : [])));
}

export async function describeTargetGroupAttributes(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<Record<string, string>> {
  const res = await elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
  return Object.fromEntries((res.Attributes ?? []).flatMap((a) => (a.Key ? [[a.Key, a.Value ?? '']] : [])));
}
