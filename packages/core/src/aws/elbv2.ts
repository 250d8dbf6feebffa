// ELBv2 reads both load-balancer operators need beyond describe.ts: listeners and rules with their
// actions, target groups by ARNs and names at once, target health, attributes, and an inventory of what
// one kind of owner created (ELBv2 has no tag filters). Actions and conditions are mapped to plain shapes
// both ways, so the operators never read or build the SDK's unions themselves.
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type Action as SdkAction,
  type ElasticLoadBalancingV2Client,
  type Rule as SdkRule,
  type RuleCondition as SdkRuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { OWNER_KIND_TAG, OWNER_UID_TAG } from '../tags/keys.ts';
import { matchesCluster, taggedOwner, type TaggedOwner, type Tags } from '../tags/tags.ts';
import type { AwsClients } from './clients.ts';
import { describeLoadBalancers, describeTargetGroups, type TargetGroup } from './describe.ts';
import { isNotFound } from './errors.ts';

// --- actions and conditions ------------------------------------------------------------------------

/** A listener default action or rule action; target groups by ARN. */
export type ElbAction =
  | { type: 'forward'; targetGroups: Array<{ arn: string; weight: number }> }
  | { type: 'fixed-response'; statusCode: string; contentType?: string; messageBody?: string }
  | { type: 'redirect'; statusCode: string; protocol?: string; port?: string; host?: string; path?: string; query?: string }
  /** authenticate-oidc / authenticate-cognito: not managed by kube-iaas, kept so a diff sees them. */
  | { type: 'other'; awsType: string };

/** A rule condition: `host-header`, `path-pattern`, `http-header`, … with its values. */
export interface ElbRuleCondition {
  field: string;
  values: string[];
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** SDK actions (sorted by `Order`) to plain ones. A forward with one target group has weight 1. */
export function fromSdkActions(actions: readonly SdkAction[] | undefined): ElbAction[] {
  return [...(actions ?? [])]
    .sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0))
    .map((a): ElbAction => {
      switch (a.Type) {
        case 'forward': {
          const cfg = a.ForwardConfig?.TargetGroups ?? [];
          const targetGroups = cfg.length > 0 ? cfg.flatMap((t) => (t.TargetGroupArn ? [{ arn: t.TargetGroupArn, weight: t.Weight ?? 1 }] : [])) : a.TargetGroupArn ? [{ arn: a.TargetGroupArn, weight: 1 }] : [];
          return { type: 'forward', targetGroups };
        }
        case 'fixed-response': {
          const f = a.FixedResponseConfig;
          return defined({ type: 'fixed-response' as const, statusCode: f?.StatusCode ?? '', contentType: f?.ContentType, messageBody: f?.MessageBody });
        }
        case 'redirect': {
          const r = a.RedirectConfig;
          return defined({ type: 'redirect' as const, statusCode: r?.StatusCode ?? '', protocol: r?.Protocol, port: r?.Port, host: r?.Host, path: r?.Path, query: r?.Query });
        }
        default:
          return { type: 'other', awsType: a.Type ?? '' };
      }
    });
}

/**
 * Plain actions to the SDK's, numbered by position. A forward to one group of weight 1 uses
 * `TargetGroupArn` alone (accepted everywhere); other forwards use `ForwardConfig` with the weights, so a
 * read gives back what was written.
 */
export function toSdkActions(actions: readonly ElbAction[]): SdkAction[] {
  return actions.map((a, i): SdkAction => {
    const Order = i + 1;
    switch (a.type) {
      case 'forward':
        if (a.targetGroups.length === 1 && a.targetGroups[0]?.weight === 1) return { Type: 'forward', Order, TargetGroupArn: a.targetGroups[0].arn };
        return { Type: 'forward', Order, ForwardConfig: { TargetGroups: a.targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })) } };
      case 'fixed-response':
        return { Type: 'fixed-response', Order, FixedResponseConfig: defined({ StatusCode: a.statusCode, ContentType: a.contentType, MessageBody: a.messageBody }) };
      case 'redirect':
        return {
          Type: 'redirect',
          Order,
          RedirectConfig: defined({ StatusCode: a.statusCode as 'HTTP_301' | 'HTTP_302', Protocol: a.protocol, Port: a.port, Host: a.host, Path: a.path, Query: a.query }),
        };
      case 'other':
        throw new Error(`cannot write an ELBv2 action of type ${a.awsType}: kube-iaas does not manage it`);
    }
  });
}

/** Values of a condition, from its typed config (`HostHeaderConfig`, …) or the legacy `Values`. */
export function fromSdkConditions(conditions: readonly SdkRuleCondition[] | undefined): ElbRuleCondition[] {
  return (conditions ?? []).map((c) => {
    const values =
      c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.HttpRequestMethodConfig?.Values ?? c.SourceIpConfig?.Values ?? c.HttpHeaderConfig?.Values ?? c.Values ?? [];
    return { field: c.Field ?? '', values: [...values] };
  });
}

/** `host-header` and `path-pattern` in their typed configs; other fields with plain `Values`. */
export function toSdkConditions(conditions: readonly ElbRuleCondition[]): SdkRuleCondition[] {
  return conditions.map((c) => {
    if (c.field === 'host-header') return { Field: c.field, HostHeaderConfig: { Values: [...c.values] } };
    if (c.field === 'path-pattern') return { Field: c.field, PathPatternConfig: { Values: [...c.values] } };
    return { Field: c.field, Values: [...c.values] };
  });
}

/** The values of every condition on `field`. */
export function conditionValues(conditions: readonly ElbRuleCondition[], field: string): string[] {
  return conditions.filter((c) => c.field === field).flatMap((c) => c.values);
}

// --- listeners and rules --------------------------------------------------------------------------

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

// --- inventory ----------------------------------------------------------------------------------------

export type ElbInventoryKind = 'loadbalancer' | 'targetgroup';

export interface ElbInventoryEntry {
  kind: ElbInventoryKind;
  arn: string;
  name: string;
  owner: TaggedOwner;
  /** Load balancers a target group is attached to. */
  loadBalancerArns?: string[];
}

/**
 * Every load balancer and target group this cluster created for owners of one kind (NetworkLoadBalancer,
 * ApplicationLoadBalancer), found by the owner tags. Built at start-up (before the first create, so a
 * restart after a crash sees what the crashed process made), refreshed by each orphan sweep, and kept
 * current with what this process creates and deletes (`remember` / `forget`).
 */
export class ElbInventory {
  readonly #clients: AwsClients;
  readonly #kind: string;
  readonly #entries = new Map<string, ElbInventoryEntry>();
  readonly #created = new Map<string, { uid: string; kind: ElbInventoryKind }>();
  /** Found by owner tags whose `kube-iaas.dev/owner` was shortened: known by UID only, so not in `entries()`. */
  readonly #byUidOnly = new Map<string, { uid: string; kind: ElbInventoryKind }>();
  #first: Promise<void> | undefined;
  #refreshedAt = 0;

  constructor(clients: AwsClients, ownerKind: string) {
    this.#clients = clients;
    this.#kind = ownerKind;
  }

  /** Resolves once the first scan finished (starting it if needed). */
  ready(): Promise<void> {
    this.#first ??= this.refresh().catch((e: unknown) => {
      this.#first = undefined;
      throw e;
    });
    return this.#first;
  }

  get refreshedAt(): number {
    return this.#refreshedAt;
  }

  /** Lists every load balancer and target group, keeps those owned by this kind in this cluster. */
  async refresh(): Promise<void> {
    const { elbv2, cluster } = this.#clients;
    const ours = (tags: Tags) => matchesCluster(cluster)(tags) && tags[OWNER_KIND_TAG] === this.#kind;
    const [lbs, tgs] = await Promise.all([describeLoadBalancers(elbv2, { match: ours }), describeTargetGroups(elbv2, { match: ours })]);
    const next = new Map<string, ElbInventoryEntry>();
    const uidOnly = new Map<string, { uid: string; kind: ElbInventoryKind }>();
    for (const lb of lbs) {
      const owner = taggedOwner(lb.tags);
      if (owner) next.set(lb.arn, { kind: 'loadbalancer', arn: lb.arn, name: lb.name, owner });
      else if (lb.tags[OWNER_UID_TAG]) uidOnly.set(lb.arn, { uid: lb.tags[OWNER_UID_TAG], kind: 'loadbalancer' });
    }
    for (const tg of tgs) {
      const owner = taggedOwner(tg.tags);
      if (owner) next.set(tg.arn, { kind: 'targetgroup', arn: tg.arn, name: tg.name, owner, loadBalancerArns: [...new Set(tg.loadBalancerArns)] });
      else if (tg.tags[OWNER_UID_TAG]) uidOnly.set(tg.arn, { uid: tg.tags[OWNER_UID_TAG], kind: 'targetgroup' });
    }
    this.#entries.clear();
    for (const [k, v] of next) this.#entries.set(k, v);
    this.#byUidOnly.clear();
    for (const [k, v] of uidOnly) this.#byUidOnly.set(k, v);
    this.#refreshedAt = Date.now();
  }

  entries(): ElbInventoryEntry[] {
    return [...this.#entries.values()];
  }

  #of(uid: string, kind: ElbInventoryKind): string[] {
    const out = new Set<string>();
    for (const e of this.#entries.values()) if (e.kind === kind && e.owner.uid === uid) out.add(e.arn);
    for (const [arn, c] of this.#created) if (c.kind === kind && c.uid === uid) out.add(arn);
    for (const [arn, c] of this.#byUidOnly) if (c.kind === kind && c.uid === uid) out.add(arn);
    return [...out];
  }

  loadBalancersOf(uid: string): string[] {
    return this.#of(uid, 'loadbalancer');
  }

  targetGroupsOf(uid: string): string[] {
    return this.#of(uid, 'targetgroup');
  }

  remember(uid: string, kind: ElbInventoryKind, arn: string): void {
    this.#created.set(arn, { uid, kind });
  }

  forget(arn: string): void {
    this.#created.delete(arn);
    this.#entries.delete(arn);
    this.#byUidOnly.delete(arn);
  }
}

/** The load balancer fields NetworkLoadBalancer and ApplicationLoadBalancer status share. */
export interface LoadBalancerStatusFields {
  loadBalancerArn: string;
  loadBalancerName: string;
  scheme: string;
  subnetIds: string[];
  dnsName?: string;
  canonicalHostedZoneId?: string;
  state?: string;
}

/** Status fields of a load balancer as read from AWS; subnets sorted so the status only changes with them. */
export function loadBalancerStatusFields(lb: {
  arn: string;
  name: string;
  scheme: string;
  subnetIds: readonly string[];
  dnsName?: string | undefined;
  canonicalHostedZoneId?: string | undefined;
  state?: string | undefined;
}): LoadBalancerStatusFields {
  const out: LoadBalancerStatusFields = { loadBalancerArn: lb.arn, loadBalancerName: lb.name, scheme: lb.scheme, subnetIds: [...lb.subnetIds].sort() };
  if (lb.dnsName) out.dnsName = lb.dnsName;
  if (lb.canonicalHostedZoneId) out.canonicalHostedZoneId = lb.canonicalHostedZoneId;
  if (lb.state) out.state = lb.state;
  return out;
}
