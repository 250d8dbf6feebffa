// ELBv2 load balancer and target group reads: by ARNs, by names (names that do not exist are left out
// instead of failing the call), or all of them filtered by tags (ELBv2 has no tag filters, so every
// resource's tags are read with DescribeTags, 20 ARNs a call).
import {
  DescribeTagsCommand,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
  type ElasticLoadBalancingV2Client,
  type LoadBalancer as SdkLoadBalancer,
  type TargetGroup as SdkTargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { isNotFound } from '@kube-iaas/core/aws';
import { tagsFromAws, type Tags } from '@kube-iaas/core/tags';

export interface LoadBalancer {
  arn: string;
  name: string;
  type: string;
  scheme: string;
  dnsName?: string;
  canonicalHostedZoneId?: string;
  state?: string;
  vpcId?: string;
  ipAddressType?: string;
  zones: { zoneName?: string; subnetId?: string }[];
  securityGroupIds: string[];
  createdTime?: Date;
  tags: Tags;
}

export interface TargetGroup {
  arn: string;
  name: string;
  protocol?: string;
  port?: number;
  targetType?: string;
  vpcId?: string;
  loadBalancerArns: string[];
  healthCheck: {
    protocol?: string;
    port?: string;
    path?: string;
    intervalSeconds?: number;
    timeoutSeconds?: number;
    healthyThreshold?: number;
    unhealthyThreshold?: number;
    /** `Matcher.HttpCode` (HTTP/HTTPS health checks). */
    successCodes?: string;
  };
  tags: Tags;
}

function def<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function toLoadBalancer(lb: SdkLoadBalancer, tags: Tags = {}): LoadBalancer {
  return def({
    arn: lb.LoadBalancerArn ?? '',
    name: lb.LoadBalancerName ?? '',
    type: lb.Type ?? '',
    scheme: lb.Scheme ?? '',
    dnsName: lb.DNSName,
    canonicalHostedZoneId: lb.CanonicalHostedZoneId,
    state: lb.State?.Code,
    vpcId: lb.VpcId,
    ipAddressType: lb.IpAddressType,
    zones: (lb.AvailabilityZones ?? []).map((z) => def({ zoneName: z.ZoneName, subnetId: z.SubnetId })),
    securityGroupIds: lb.SecurityGroups ?? [],
    createdTime: lb.CreatedTime,
    tags,
  });
}

export function toTargetGroup(tg: SdkTargetGroup, tags: Tags = {}): TargetGroup {
  return def({
    arn: tg.TargetGroupArn ?? '',
    name: tg.TargetGroupName ?? '',
    protocol: tg.Protocol,
    port: tg.Port,
    targetType: tg.TargetType,
    vpcId: tg.VpcId,
    // moto repeats an ARN once per listener that forwards to the group.
    loadBalancerArns: [...new Set(tg.LoadBalancerArns ?? [])],
    healthCheck: def({
      protocol: tg.HealthCheckProtocol,
      port: tg.HealthCheckPort,
      path: tg.HealthCheckPath,
      intervalSeconds: tg.HealthCheckIntervalSeconds,
      timeoutSeconds: tg.HealthCheckTimeoutSeconds,
      healthyThreshold: tg.HealthyThresholdCount,
      unhealthyThreshold: tg.UnhealthyThresholdCount,
      successCodes: tg.Matcher?.HttpCode,
    }),
    tags,
  });
}

/** Tags of up to any number of ELBv2 resources (DescribeTags takes 20 ARNs a call). */
export async function describeElbTags(elbv2: ElasticLoadBalancingV2Client, arns: readonly string[]): Promise<Map<string, Tags>> {
  const out = new Map<string, Tags>();
  for (let i = 0; i < arns.length; i += 20) {
    const res = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of res.TagDescriptions ?? []) if (d.ResourceArn) out.set(d.ResourceArn, tagsFromAws(d.Tags));
  }
  return out;
}

export interface ElbQuery {
  arns?: string[];
  names?: string[];
  /** Keep only those whose tags match (ELBv2 has no tag filters: all are listed, then their tags read). */
  match?: (tags: Tags) => boolean;
}

/** Runs a by-name/ARN lookup; names or ARNs that do not exist are left out instead of failing the call. */
async function lenient<T>(keys: string[] | undefined, run: (keys: string[] | undefined) => Promise<T[]>): Promise<T[]> {
  try {
    return await run(keys);
  } catch (e) {
    if (!keys || !isNotFound(e)) throw e;
    if (keys.length === 1) return [];
    const out: T[] = [];
    for (const k of keys) out.push(...(await lenient([k], run)));
    return out;
  }
}

export async function describeLoadBalancers(elbv2: ElasticLoadBalancingV2Client, q: ElbQuery = {}): Promise<LoadBalancer[]> {
  const byArn = q.arns?.length ? q.arns : undefined;
  const byName = !byArn && q.names?.length ? q.names : undefined;
  const raw = await lenient(byArn ?? byName, async (keys) => {
    const out: SdkLoadBalancer[] = [];
    const input = byArn ? { LoadBalancerArns: keys } : byName ? { Names: keys } : {};
    for await (const page of paginateDescribeLoadBalancers({ client: elbv2 }, input)) out.push(...(page.LoadBalancers ?? []));
    return out;
  });
  const tags = await describeElbTags(elbv2, raw.flatMap((lb) => (lb.LoadBalancerArn ? [lb.LoadBalancerArn] : [])));
  return raw
    .map((lb) => toLoadBalancer(lb, tags.get(lb.LoadBalancerArn ?? '') ?? {}))
    .filter((lb) => !q.match || q.match(lb.tags))
    .sort((a, b) => (a.arn < b.arn ? -1 : 1));
}

export async function describeTargetGroups(elbv2: ElasticLoadBalancingV2Client, q: ElbQuery & { loadBalancerArn?: string } = {}): Promise<TargetGroup[]> {
  const byArn = q.arns?.length ? q.arns : undefined;
  const byName = !byArn && q.names?.length ? q.names : undefined;
  const raw = await lenient(byArn ?? byName, async (keys) => {
    const out: SdkTargetGroup[] = [];
    const input = { ...(byArn ? { TargetGroupArns: keys } : byName ? { Names: keys } : {}), ...(q.loadBalancerArn ? { LoadBalancerArn: q.loadBalancerArn } : {}) };
    for await (const page of paginateDescribeTargetGroups({ client: elbv2 }, input)) out.push(...(page.TargetGroups ?? []));
    return out;
  });
  const tags = await describeElbTags(elbv2, raw.flatMap((tg) => (tg.TargetGroupArn ? [tg.TargetGroupArn] : [])));
  return raw
    .map((tg) => toTargetGroup(tg, tags.get(tg.TargetGroupArn ?? '') ?? {}))
    .filter((tg) => !q.match || q.match(tg.tags))
    .sort((a, b) => (a.arn < b.arn ? -1 : 1));
}

