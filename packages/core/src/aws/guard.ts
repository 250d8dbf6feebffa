import { AsyncLocalStorage } from 'node:async_hooks';
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  paginateDescribeTags,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeTagsCommand as ElbDescribeTagsCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, HandlerExecutionContext, Pluggable } from '@smithy/types';
import type { Logger } from '../log.ts';
import { CLUSTER_SHARED, CLUSTER_TAG_PREFIX, OWNER_CLUSTER_TAG, OWNER_KIND_TAG, OWNER_TAG, OWNER_UID_TAG } from '../tags/keys.ts';
import {
  OwnershipError,
  assertCreateTags,
  assertMutable,
  assertOwnerDescriptions,
  clusterOwnership,
  type ChangeKind,
  type MutationPermit,
} from '../tags/ownership.ts';
import { tagsFromAws, type OwnerRef, type Tags } from '../tags/tags.ts';
import { awsMetrics } from './call-stats.ts';
import { AwsError } from './errors.ts';
import { GUARD_RULES, asgResource, ec2Resource, elbResource, type GuardTarget, type ResourceRef } from './guard-rules.ts';
import { isArn, parseArn } from './partition.ts';
import { operationClass } from './rate-limit.ts';

export interface GuardClients {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  autoScaling: AutoScalingClient;
}

export interface OwnershipGuardOptions {
  cluster: string;
  /** How long fetched or observed tags are trusted. Default 30 s. */
  tagCacheTtlMs?: number;
  logger?: Logger;
  now?: () => number;
}

export interface GuardCheckOptions {
  change: ChangeKind;
  /** Defaults to the owner set with `asOwner()`. */
  owner?: OwnerRef;
  mustBeOurs?: boolean;
  describedBy?: ReadonlyArray<string | undefined>;
}

interface GuardScope {
  owner?: OwnerRef;
  bypass?: string;
}

const scope = new AsyncLocalStorage<GuardScope>();

const SERVICE_LABEL: Record<ResourceRef['service'], string> = { ec2: 'EC2', elbv2: 'ELBv2', autoscaling: 'AutoScaling' };

/** Human name of a resource kind from its ID, for messages. */
export function resourceTypeOf(ref: ResourceRef): string {
  if (ref.service === 'autoscaling') return 'auto scaling group';
  if (ref.service === 'elbv2') {
    if (!isArn(ref.id)) return 'ELBv2 resource';
    const kind = parseArn(ref.id).resource.split('/')[0];
    return kind === 'targetgroup' ? 'target group' : kind === 'loadbalancer' ? 'load balancer' : `ELBv2 ${kind}`;
  }
  const prefix = ref.id.startsWith('group-name:') ? 'sg' : ref.id.split('-')[0];
  const names: Record<string, string> = { sg: 'security group', vol: 'volume', eni: 'network interface', i: 'instance', subnet: 'subnet', vpc: 'VPC' };
  return names[prefix ?? ''] ?? 'EC2 resource';
}

/** Caps every cluster tag at `shared` and drops owner tags: for a primary ENI judged by its instance. */
function asShared(tags: Tags): Tags {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (k === OWNER_CLUSTER_TAG || k === OWNER_KIND_TAG || k === OWNER_TAG || k === OWNER_UID_TAG) continue;
    out[k] = k.startsWith(CLUSTER_TAG_PREFIX) ? CLUSTER_SHARED : v;
  }
  return out;
}

/**
 * The ownership guard. It is installed as middleware on the EC2, ELBv2 and Auto Scaling clients
 * made by `createAwsClients`, so *every* mutating call passes it:
 * - Create calls must carry `ownedTags()` for this cluster (and the current owner, when set);
 * - calls that change existing resources are checked against the resources' current tags with
 *   `assertMutable` (tags come from a short cache fed by describes, or are fetched);
 * - mutating operations it has no rule for are refused (see `GUARD_RULES`).
 * Operators may also check explicitly first (`guard.checkSecurityGroup(id, 'additive')`), which
 * returns the owner description to put on rules and warms the cache, so the call costs nothing extra.
 */
export class OwnershipGuard {
  readonly cluster: string;
  private readonly ttlMs: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly cache = new Map<string, { tags: Tags; expires: number }>();
  private readonly inflight = new Map<string, Promise<Tags>>();
  private clients: GuardClients | undefined;
  private observed = 0;

  constructor(opts: OwnershipGuardOptions) {
    if (!opts.cluster) throw new Error('OwnershipGuard needs the cluster name');
    this.cluster = opts.cluster;
    this.ttlMs = opts.tagCacheTtlMs ?? 30_000;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  /** Gives the guard the clients it reads tags with (the same guarded clients; describes pass freely). */
  attach(clients: GuardClients): void {
    this.clients = clients;
  }

  private get c(): GuardClients {
    if (!this.clients) throw new Error('OwnershipGuard: attach(clients) was not called');
    return this.clients;
  }

  // --- context ---------------------------------------------------------------------------------

  /**
   * Runs `fn` on behalf of `owner`: inside, creates must carry this owner's tags, `any` changes
   * need the owner's tags on the resource, and rules added to shared groups must name this owner.
   */
  asOwner<T>(owner: OwnerRef, fn: () => T): T {
    return scope.run({ ...scope.getStore(), owner }, fn);
  }

  /** The owner set by the enclosing `asOwner`, if any. */
  get currentOwner(): OwnerRef | undefined {
    return scope.getStore()?.owner;
  }

  /**
   * Runs `fn` with the guard off, for calls that touch nothing that could belong to someone else and
   * have no rule yet. The reason is logged with every call; prefer adding a rule to `GUARD_RULES`.
   */
  unchecked<T>(reason: string, fn: () => T): T {
    if (!reason) throw new Error('guard.unchecked() needs a reason');
    return scope.run({ ...scope.getStore(), bypass: reason }, fn);
  }

  // --- tags -------------------------------------------------------------------------------------

  private key(ref: ResourceRef): string {
    return `${ref.service}:${ref.id}`;
  }

  /** Records tags seen in a describe; the guard trusts them for the cache TTL. */
  observe(ref: ResourceRef, tags: Tags): void {
    const now = this.now();
    // Describes of large accounts feed many entries: sweep expired ones now and then.
    if (++this.observed % 1000 === 0) for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    this.cache.set(this.key(ref), { tags, expires: now + this.ttlMs });
  }

  forget(ref: ResourceRef): void {
    this.cache.delete(this.key(ref));
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** The resource's current tags (cached up to the TTL). Throws `AwsError` not-found if it does not exist. */
  async tagsOf(ref: ResourceRef): Promise<Tags> {
    const k = this.key(ref);
    const hit = this.cache.get(k);
    if (hit && hit.expires > this.now()) return hit.tags;
    const pending = this.inflight.get(k);
    if (pending) return pending;
    const p = this.fetchTags(ref)
      .then((tags) => {
        this.observe(ref, tags);
        return tags;
      })
      .finally(() => this.inflight.delete(k));
    this.inflight.set(k, p);
    return p;
  }

  private notFound(ref: ResourceRef, code: string): AwsError {
    return new AwsError({ kind: 'not-found', code, message: `${resourceTypeOf(ref)} ${ref.id} does not exist`, service: ref.service });
  }

  private async fetchTags(ref: ResourceRef): Promise<Tags> {
    const { ec2, elbv2, autoScaling } = this.c;
    if (ref.service === 'autoscaling') {
      const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ref.id] }));
      const g = out.AutoScalingGroups?.[0];
      if (!g) throw this.notFound(ref, 'ValidationError');
      return tagsFromAws(g.Tags);
    }
    if (ref.service === 'elbv2') {
      const out = await elbv2.send(new ElbDescribeTagsCommand({ ResourceArns: [ref.id] }));
      return tagsFromAws(out.TagDescriptions?.[0]?.Tags);
    }
    const id = ref.id;
    if (id.startsWith('group-name:')) {
      const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [id.slice('group-name:'.length)] }));
      return tagsFromAws(out.SecurityGroups?.[0]?.Tags);
    }
    const prefix = id.split('-')[0];
    switch (prefix) {
      case 'sg': {
        const g = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups?.[0];
        if (!g) throw this.notFound(ref, 'InvalidGroup.NotFound');
        return tagsFromAws(g.Tags);
      }
      case 'vol': {
        const v = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0];
        if (!v) throw this.notFound(ref, 'InvalidVolume.NotFound');
        return tagsFromAws(v.Tags);
      }
      case 'subnet': {
        const s = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets?.[0];
        if (!s) throw this.notFound(ref, 'InvalidSubnetID.NotFound');
        return tagsFromAws(s.Tags);
      }
      case 'i': {
        const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0];
        if (!i) throw this.notFound(ref, 'InvalidInstanceID.NotFound');
        return tagsFromAws(i.Tags);
      }
      case 'eni': {
        const n = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces?.[0];
        if (!n) throw this.notFound(ref, 'InvalidNetworkInterfaceID.NotFound');
        const tags = tagsFromAws(n.TagSet);
        // An instance's primary interface is created by EC2 with no tags of ours: judge it by the
        // instance, but never as more than shared (IPs may be added and removed, nothing else).
        if (clusterOwnership(tags, this.cluster).state === 'untagged' && n.Attachment?.DeviceIndex === 0 && n.Attachment.InstanceId) {
          return asShared({ ...(await this.tagsOf(ec2Resource(n.Attachment.InstanceId))), ...tags });
        }
        return tags;
      }
      default: {
        const tags: Record<string, string> = {};
        for await (const page of paginateDescribeTags({ client: ec2 }, { Filters: [{ Name: 'resource-id', Values: [id] }] })) {
          for (const t of page.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
        }
        return tags;
      }
    }
  }

  // --- explicit checks ----------------------------------------------------------------------------

  /**
   * Fetches (or reuses) the resource's tags and applies `assertMutable`. Returns the permit, whose
   * `description` is what to put on rules added for the owner. Throws `OwnershipError`.
   */
  async check(ref: ResourceRef, opts: GuardCheckOptions): Promise<MutationPermit> {
    const tags = await this.tagsOf(ref);
    const owner = opts.owner ?? this.currentOwner;
    return assertMutable(
      { id: ref.id, type: resourceTypeOf(ref), tags },
      { cluster: this.cluster, change: opts.change, ...(owner ? { owner } : {}), ...(opts.mustBeOurs ? { mustBeOurs: true } : {}), ...(opts.describedBy ? { describedBy: opts.describedBy } : {}) },
    );
  }

  checkSecurityGroup(groupId: string, change: ChangeKind = 'additive', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(ec2Resource(groupId), { ...opts, change });
  }
  checkVolume(volumeId: string, change: ChangeKind = 'any', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(ec2Resource(volumeId), { ...opts, change });
  }
  checkNetworkInterface(eniId: string, change: ChangeKind = 'any', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(ec2Resource(eniId), { ...opts, change });
  }
  checkInstance(instanceId: string, change: ChangeKind = 'additive', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(ec2Resource(instanceId), { ...opts, change });
  }
  checkSubnet(subnetId: string, change: ChangeKind = 'additive', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(ec2Resource(subnetId), { ...opts, change });
  }
  /** Load balancer, listener or rule ARN (listeners and rules are judged by their load balancer). */
  checkLoadBalancer(arn: string, change: ChangeKind = 'any', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(elbResource(arn), { ...opts, change });
  }
  checkTargetGroup(arn: string, change: ChangeKind = 'any', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(elbResource(arn), { ...opts, change });
  }
  checkAutoScalingGroup(name: string, change: ChangeKind = 'scale', opts: Omit<GuardCheckOptions, 'change'> = {}): Promise<MutationPermit> {
    return this.check(asgResource(name), { ...opts, change });
  }

  // --- enforcement ----------------------------------------------------------------------------------

  private refuse(service: ResourceRef['service'], operation: string, err: OwnershipError): never {
    awsMetrics().refusals.inc({ service, operation, reason: err.reason });
    this.logger?.warn({ service, operation, resource: err.resourceId, reason: err.reason, missingTag: err.missingTag }, err.message);
    throw err;
  }

  /** Checks one mutating call; returns what to do after it succeeded. Throws `OwnershipError`. */
  async enforce(service: ResourceRef['service'], operation: string, input: object): Promise<(output: object) => void> {
    const rule = GUARD_RULES[service][operation];
    const owner = this.currentOwner;
    if (!rule) {
      this.refuse(
        service,
        operation,
        new OwnershipError(
          `refusing ${SERVICE_LABEL[service]} ${operation}: the ownership guard has no rule for it; add one to GUARD_RULES (packages/core/src/aws/guard-rules.ts) or call it inside guard.unchecked(reason, ...)`,
          { reason: 'no-rule', cluster: this.cluster, operation },
        ),
      );
    }
    try {
      if (rule.creates) assertCreateTags(rule.creates.what, rule.creates.tags(input), { cluster: this.cluster, owner, operation });
      const targets: GuardTarget[] = rule.targets ? await rule.targets(input, { ec2: this.c.ec2, autoScaling: this.c.autoScaling }) : [];
      for (const t of targets) {
        const tags = await this.tagsOf(t.ref);
        const resource = { id: t.ref.id.replace(/^group-name:/, ''), type: resourceTypeOf(t.ref), tags };
        const shared = clusterOwnership(tags, this.cluster).state === 'shared';
        const describedBy = t.change === 'retract' && shared && t.removes ? await t.removes() : undefined;
        assertMutable(resource, {
          cluster: this.cluster,
          change: t.change,
          operation,
          ...(owner ? { owner } : {}),
          // Inside an owner's scope, only that owner's resources may be changed wholesale.
          ...(owner && t.change === 'any' ? { mustBeOurs: true } : {}),
          ...(describedBy ? { describedBy } : {}),
        });
        if (shared && t.adds) assertOwnerDescriptions(resource, t.adds, { cluster: this.cluster, change: t.change, owner, operation });
      }
      return (output) => {
        if (rule.invalidates) for (const t of targets) this.forget(t.ref);
        if (rule.creates) {
          const created = rule.creates.created(input, output);
          const tags = rule.creates.tags(input);
          if (created && tags) this.observe(created, tags);
        }
      };
    } catch (err) {
      if (err instanceof OwnershipError) this.refuse(service, operation, err);
      throw err;
    }
  }

  /** Feeds the cache from describe outputs that carry complete tag sets. */
  observeOutput(service: ResourceRef['service'], operation: string, output: object): void {
    const o = output as Record<string, unknown>;
    const each = <T>(v: unknown, fn: (item: T) => void) => {
      if (Array.isArray(v)) for (const item of v as T[]) fn(item);
    };
    type Tagged = { Key?: string; Value?: string }[] | undefined;
    if (service === 'ec2') {
      each<{ VolumeId?: string; Tags?: Tagged }>(o.Volumes, (v) => v.VolumeId && this.observe(ec2Resource(v.VolumeId), tagsFromAws(v.Tags)));
      each<{ GroupId?: string; Tags?: Tagged }>(o.SecurityGroups, (g) => g.GroupId && this.observe(ec2Resource(g.GroupId), tagsFromAws(g.Tags)));
      each<{ SubnetId?: string; Tags?: Tagged }>(o.Subnets, (s) => s.SubnetId && this.observe(ec2Resource(s.SubnetId), tagsFromAws(s.Tags)));
      each<{ Instances?: unknown }>(o.Reservations, (r) =>
        each<{ InstanceId?: string; Tags?: Tagged }>(r.Instances, (i) => i.InstanceId && this.observe(ec2Resource(i.InstanceId), tagsFromAws(i.Tags))),
      );
      each<{ NetworkInterfaceId?: string; TagSet?: Tagged; Attachment?: { DeviceIndex?: number } }>(o.NetworkInterfaces, (n) => {
        if (!n.NetworkInterfaceId) return;
        const tags = tagsFromAws(n.TagSet);
        // Primary interfaces borrow their instance's tags: leave those to fetchTags.
        if (n.Attachment?.DeviceIndex === 0 && clusterOwnership(tags, this.cluster).state === 'untagged') return;
        this.observe(ec2Resource(n.NetworkInterfaceId), tags);
      });
    } else if (service === 'elbv2' && operation === 'DescribeTags') {
      // Only load balancers and target groups: a listener's own tags are not its load balancer's.
      each<{ ResourceArn?: string; Tags?: Tagged }>(o.TagDescriptions, (d) => {
        if (d.ResourceArn && elbResource(d.ResourceArn).id === d.ResourceArn) this.observe(elbResource(d.ResourceArn), tagsFromAws(d.Tags));
      });
    } else if (service === 'autoscaling' && operation === 'DescribeAutoScalingGroups') {
      each<{ AutoScalingGroupName?: string; Tags?: Tagged }>(o.AutoScalingGroups, (g) => g.AutoScalingGroupName && this.observe(asgResource(g.AutoScalingGroupName), tagsFromAws(g.Tags)));
    }
  }

  /** The SDK plugin that puts this guard in front of every call of a client. */
  plugin<I extends object = object, O extends object = object>(service: ResourceRef['service']): Pluggable<I, O> {
    const middleware =
      (next: InitializeHandler<I, O>, context: HandlerExecutionContext): InitializeHandler<I, O> =>
      async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        if (operationClass(operation) === 'describe') {
          const out = await next(args);
          this.observeOutput(service, operation, out.output);
          return out;
        }
        const bypass = scope.getStore()?.bypass;
        if (bypass !== undefined) {
          this.logger?.info({ service, operation, reason: bypass }, 'ownership guard bypassed');
          return next(args);
        }
        const after = await this.enforce(service, operation, args.input);
        const out = await next(args);
        after(out.output);
        return out;
      };
    return {
      applyToStack: (stack) => {
        stack.add(middleware, { step: 'initialize', priority: 'high', name: 'kubeIaasOwnershipGuard', override: true });
      },
    };
  }
}
