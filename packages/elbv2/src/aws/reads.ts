// ELBv2 reads beyond load balancers and target groups: listeners and rules with their actions, target
// groups by ARNs and names at once, target health and attributes.
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type Rule as SdkRule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { isNotFound } from '@kube-iaas/core/aws';
import { defined, fromSdkActions, fromSdkConditions, type ElbAction, type ElbRuleCondition } from './actions.ts';
import { describeTargetGroups, type TargetGroup } from './describe.ts';

export interface Listener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  /** The default certificate first (DescribeListeners reports only that one). */
  certificateArns: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
  defaultActions: ElbAction[];
}

/** The listeners of one load balancer, by port; none when it does not exist. */
export async function describeListeners(elbv2: ElasticLoadBalancingV2Client, loadBalancerArn: string): Promise<Listener[]> {
  const out: Listener[] = [];
  let marker: string | undefined;
  try {
    do {
      const res = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }));
      for (const l of res.Listeners ?? []) {
        out.push(
          defined({
            arn: l.ListenerArn ?? '',
            loadBalancerArn,
            port: l.Port ?? 0,
            protocol: l.Protocol ?? '',
            certificateArns: (l.Certificates ?? []).flatMap((c) => (c.CertificateArn ? [c.CertificateArn] : [])),
            sslPolicy: l.SslPolicy || undefined,
            alpnPolicy: l.AlpnPolicy?.[0] || undefined,
            defaultActions: fromSdkActions(l.DefaultActions),
          }),
        );
      }
      marker = res.NextMarker;
    } while (marker);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
  return out.sort((a, b) => a.port - b.port);
}

/** The first forward target group of a set of actions (what an NLB listener forwards to). */
export function forwardTargetGroupArn(actions: readonly ElbAction[]): string | undefined {
  for (const a of actions) if (a.type === 'forward' && a.targetGroups[0]) return a.targetGroups[0].arn;
  return undefined;
}

export interface ListenerRule {
  arn: string;
  listenerArn: string;
  /** Absent on the listener's default rule. */
  priority?: number;
  isDefault: boolean;
  conditions: ElbRuleCondition[];
  actions: ElbAction[];
}

function toRule(r: SdkRule, listenerArn: string): ListenerRule {
  const priority = r.IsDefault || r.Priority === 'default' ? undefined : Number(r.Priority);
  return defined({
    arn: r.RuleArn ?? '',
    listenerArn,
    priority: priority !== undefined && Number.isFinite(priority) ? priority : undefined,
    isDefault: r.IsDefault ?? r.Priority === 'default',
    conditions: fromSdkConditions(r.Conditions),
    actions: fromSdkActions(r.Actions),
  });
}

/**
 * The rules of one listener by priority, without the default rule unless `includeDefault` (its action is
 * the listener's default action). None when the listener does not exist.
 */
export async function describeRules(elbv2: ElasticLoadBalancingV2Client, listenerArn: string, opts: { includeDefault?: boolean } = {}): Promise<ListenerRule[]> {
  const out: ListenerRule[] = [];
  let marker: string | undefined;
  try {
    do {
      const res = await elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
      for (const r of res.Rules ?? []) out.push(toRule(r, listenerArn));
      marker = res.NextMarker;
    } while (marker);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
  return out.filter((r) => opts.includeDefault || !r.isDefault).sort((a, b) => (a.priority ?? Infinity) - (b.priority ?? Infinity));
}

// --- target groups ---------------------------------------------------------------------------------

/**
 * Target groups by ARNs and by names in one lookup (status ARNs plus the deterministic names of the
 * desired ones); what does not exist is left out. Sorted by ARN, each once.
 */
export async function findTargetGroups(elbv2: ElasticLoadBalancingV2Client, q: { arns?: readonly string[]; names?: readonly string[] }): Promise<TargetGroup[]> {
  const arns = [...new Set(q.arns ?? [])];
  const byArn = arns.length > 0 ? await describeTargetGroups(elbv2, { arns }) : [];
  const found = new Set(byArn.map((t) => t.name));
  const names = [...new Set(q.names ?? [])].filter((n) => !found.has(n));
  const byName = names.length > 0 ? await describeTargetGroups(elbv2, { names }) : [];
  const all = new Map<string, TargetGroup>();
  for (const t of [...byArn, ...byName]) all.set(t.arn, t);
  return [...all.values()].sort((a, b) => (a.arn < b.arn ? -1 : 1));
}

export interface TargetHealth {
  id: string;
  port?: number;
  /** initial, healthy, unhealthy, unused, draining, unavailable. */
  state: string;
  reason?: string;
}

/** Targets of one target group; none when it does not exist. */
export async function describeTargetHealth(elbv2: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<TargetHealth[]> {
  try {
    const res = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    return (res.TargetHealthDescriptions ?? [])
      .flatMap((d) => (d.Target?.Id ? [defined({ id: d.Target.Id, port: d.Target.Port, state: d.TargetHealth?.State ?? 'unknown', reason: d.TargetHealth?.Reason })] : []))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : (a.port ?? 0) - (b.port ?? 0)));
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

/** Registered target IDs (sorted, unique) and how many are healthy. Draining targets are on their way out and not counted. */
export function registeredTargets(health: readonly TargetHealth[]): { ids: string[]; healthy: number } {
  const ids = new Set<string>();
  let healthy = 0;
  for (const t of health) {
    if (t.state === 'draining') continue;
    ids.add(t.id);
    if (t.state === 'healthy') healthy++;
  }
  return { ids: [...ids].sort(), healthy };
}

// --- attributes ------------------------------------------------------------------------------------

const attributeMap = (attrs: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined): Record<string, string> =>
  Object.fromEntries((attrs ?? []).flatMap((a) => (a.Key ? [[a.Key, a.Value ?? '']] : [])));

export async function describeLoadBalancerAttributes(elbv2: ElasticLoadBalancingV2Client, loadBalancerArn: string): Promise<Record<string, string>> {
  return attributeMap((await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: loadBalancerArn }))).Attributes);
}

export async function describeTargetGroupAttributes(elbv2: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<Record<string, string>> {
  return attributeMap((await elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }))).Attributes);
}

/** An attribute map as the SDK's `[{Key, Value}]`, for Modify*Attributes. */
export function toElbAttributes(attributes: Readonly<Record<string, string>>): Array<{ Key: string; Value: string }> {
  return Object.keys(attributes)
    .sort()
    .map((Key) => ({ Key, Value: attributes[Key] ?? '' }));
}

