import { AsyncLocalStorage } from 'node:async_hooks';
import type { InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, HandlerExecutionContext, Pluggable } from '@smithy/types';
import type { Logger } from '../log.ts';
import {
  OwnershipError,
  assertCreateTags,
  assertMutable,
  assertOwnerDescriptions,
  clusterOwnership,
  type ChangeKind,
  type MutationPermit,
} from '../tags/ownership.ts';
import type { OwnerRef, Tags } from '../tags/tags.ts';
import { awsMetrics } from './call-stats.ts';
import { GUARD_RULES, asgResource, ec2Resource, elbResource, type GuardTarget, type ResourceRef } from './guard-rules.ts';
import { fetchResourceTags, observedTags, resourceTypeOf, type GuardClients } from './guard-tags.ts';
import { operationClass } from './rate-limit.ts';

export { resourceTypeOf, type GuardClients } from './guard-tags.ts';

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
    const p = fetchResourceTags(this.c, ref, this.cluster, (r) => this.tagsOf(r))
      .then((tags) => {
        this.observe(ref, tags);
        return tags;
      })
      .finally(() => this.inflight.delete(k));
    this.inflight.set(k, p);
    return p;
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
    for (const [ref, tags] of observedTags(service, operation, output, this.cluster)) this.observe(ref, tags);
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
