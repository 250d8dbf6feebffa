// What the deployers share while one plan runs: the clients and owner, and what the calls produced so
// far (a load balancer, group or target group created by an earlier step is used by a later one).
import { backoffDelay } from '@kube-iaas/core/runtime';
import { classifyAwsError, isNotFound, type AwsClients } from '@kube-iaas/core/aws';
import { type Logger } from '@kube-iaas/core/log';
import { type OwnerRef } from '@kube-iaas/core/tags';
import type { ElbInventory } from '../aws/inventory.ts';
import type { Action } from '../changes.ts';
import { OWN_GROUP, type ActualGroupRule, type ActualNodeRule, type ActualState } from '../model.ts';

export interface AppliedLoadBalancer {
  arn: string;
  name: string;
  scheme: string;
  dnsName?: string;
  canonicalHostedZoneId?: string;
  state?: string;
  subnetIds: string[];
  securityGroupIds: string[];
}

/** What the calls produced, for status. */
export interface ApplyResult {
  /** The load balancer after the plan: the one created, else the kept one, else none. */
  loadBalancer?: AppliedLoadBalancer;
  /** The load balancer's own group (kept or created) and its rules after the plan. */
  securityGroupId?: string;
  securityGroupRules: ActualGroupRule[];
  /** Target group ARNs by AWS name: the actual ones and the created ones, minus the deleted ones. */
  targetGroupArns: Map<string, string>;
  /** Listener ARNs by port on the load balancer. */
  listenerArns: Map<number, string>;
  /** Rules on the load balancer's listeners. */
  rules: Array<{ listenerPort: number; priority: number; arn: string }>;
  /** The owner's rules on node security groups. */
  nodeRules: ActualNodeRule[];
  /** How many actions changed something. */
  calls: number;
  /**
   * Adding security-group rules failed (for example a group's rule quota is reached). The rest of the plan
   * still ran: the load balancer serves what the rules allow; the caller reports and retries.
   */
  ruleError?: unknown;
}

export interface ApplyContext {
  clients: AwsClients;
  owner: OwnerRef;
  actual: ActualState;
  /** The load balancer that stays (`Plan.keep.arn`), if one does. */
  keepArn?: string | undefined;
  /** The own security group that stays (`Plan.group.id`), if one does. */
  groupId?: string | undefined;
  inventory?: ElbInventory | undefined;
  /** One line per action, before its calls. */
  logger?: Logger | undefined;
  /** Names the load balancer in log lines (NLB, ALB). */
  noun?: string | undefined;
  /** After each successful action (Events). */
  onApplied?: ((a: Action) => void) | undefined;
  /**
   * Deletions that meet ResourceInUse / DependencyViolation are tried this many times here, with
   * exponential backoff from `baseMs`. Default 1: the error is thrown at once and the controller's queue
   * retries the key from a fresh read, without holding a worker meanwhile. Callers without a queue
   * (tests, scripts) may ask for inline retries.
   */
  dependencyRetry?: { attempts?: number; baseMs?: number; maxMs?: number } | undefined;
}

export const codeOf = (e: unknown): string => classifyAwsError(e).code;

/** A delete refused because something still uses the resource: it goes by itself or by another delete. */
export const isStillInUse = (e: unknown): boolean => ['ResourceInUse', 'DependencyViolation', 'ResourceInUseFault', 'InvalidGroup.InUse'].includes(codeOf(e));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deletes that find nothing are done. */
export async function gone(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export class Deployment {
  readonly ctx: ApplyContext;
  readonly result: ApplyResult;

  constructor(ctx: ApplyContext) {
    this.ctx = ctx;
    const { actual } = ctx;
    const groupId = ctx.groupId;
    const group = actual.securityGroups.find((g) => g.id === groupId);
    this.result = {
      targetGroupArns: new Map(actual.targetGroups.map((t) => [t.name, t.arn])),
      listenerArns: new Map(),
      rules: [],
      nodeRules: [...actual.nodeRules],
      securityGroupRules: [...(group?.ingress ?? [])],
      calls: 0,
      ...(groupId ? { securityGroupId: groupId } : {}),
    };
    const kept = actual.loadBalancers.find((lb) => lb.arn === ctx.keepArn);
    if (kept) {
      const lb: AppliedLoadBalancer = { arn: kept.arn, name: kept.name, scheme: kept.scheme, subnetIds: kept.subnetIds, securityGroupIds: kept.securityGroupIds };
      if (kept.dnsName) lb.dnsName = kept.dnsName;
      if (kept.canonicalHostedZoneId) lb.canonicalHostedZoneId = kept.canonicalHostedZoneId;
      if (kept.state) lb.state = kept.state;
      this.result.loadBalancer = lb;
    }
    const keptListeners = new Set<string>();
    for (const l of actual.listeners) {
      if (l.loadBalancerArn !== ctx.keepArn) continue;
      this.result.listenerArns.set(l.port, l.arn);
      keptListeners.add(l.arn);
    }
    for (const r of actual.rules) if (keptListeners.has(r.listenerArn)) this.result.rules.push({ listenerPort: r.listenerPort, priority: r.priority, arn: r.arn });
  }

  get clients(): AwsClients {
    return this.ctx.clients;
  }

  lbArn(): string {
    const arn = this.result.loadBalancer?.arn;
    if (!arn) throw new Error('the plan needs a load balancer before it has one');
    return arn;
  }

  /** A security group ID, `OWN_GROUP` resolved to the group found or created. */
  group(id: string): string {
    if (id !== OWN_GROUP) return id;
    if (!this.result.securityGroupId) throw new Error("the plan uses the load balancer's security group before it exists");
    return this.result.securityGroupId;
  }

  tgArn(name: string): string {
    const arn = this.result.targetGroupArns.get(name);
    if (!arn) throw new Error(`target group ${name} is neither found nor created`);
    return arn;
  }

  listenerArn(port: number): string {
    const arn = this.result.listenerArns.get(port);
    if (!arn) throw new Error(`listener on port ${port} is neither found nor created`);
    return arn;
  }

  setRule(listenerPort: number, priority: number, arn: string): void {
    this.result.rules = [...this.result.rules.filter((r) => !(r.listenerPort === listenerPort && r.priority === priority)), { listenerPort, priority, arn }];
  }

  /** Runs a delete, again while AWS still sees a dependency, as often as `dependencyRetry` allows. */
  async retryInUse<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const r = { attempts: 1, baseMs: 1000, maxMs: 15_000, ...this.ctx.dependencyRetry };
    for (let n = 0; ; n++) {
      try {
        return await fn();
      } catch (e) {
        if (!isStillInUse(e) || n + 1 >= r.attempts) throw e;
        const wait = backoffDelay(n, { baseMs: r.baseMs, maxMs: r.maxMs });
        this.ctx.logger?.info({ owner: this.ctx.owner.name, what, code: codeOf(e), waitMs: wait }, 'still in use; retrying');
        await sleep(wait);
      }
    }
  }
}
