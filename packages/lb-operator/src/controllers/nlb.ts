// Stage 2: reconciles a NetworkLoadBalancer against AWS — resolve inputs, read actual state by owner
// tags, plan, apply the fewest calls, write the CR's status (stage 1 copies the DNS name into the
// Service the CR serves). Input problems become conditions and Warning Events before any AWS call, so
// a working NLB is never torn down by bad input.
import type { V1Node, V1Service } from '@kubernetes/client-node';
import { formatFieldErrors, validateNetworkLoadBalancerSpec, type NetworkLoadBalancer, type NetworkLoadBalancerStatus } from '@kube-iaas/crds';
import {
  ConditionType,
  addFinalizer,
  controllerOf,
  hasFinalizer,
  isBeingDeleted,
  isKubeConflict,
  readyCondition,
  removeFinalizer,
  resources,
  setConditions,
  syncedCondition,
  type Condition,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type ReconcileContext,
  type ReconcileResult,
  type StatusWriter,
} from '@kube-iaas/core/runtime';
import { SubnetSelectionError } from '@kube-iaas/core/tags';
import { classifyAwsError, type AwsClients } from '@kube-iaas/core/aws';
import { FINALIZER, NLB_RESOURCE } from '../constants.ts';
import { foreignInstances, serviceRefConflict } from '../translate/serving.ts';
import { EVENT_REASONS, applyPlan, type ApplyResult } from '@kube-iaas/elbv2';
import { ResolveError, type AwsEnvironment } from '../aws/environment.ts';
import type { Inventory } from '../aws/inventory.ts';
import { readActual } from '../aws/read.ts';
import type { BackendGroups } from '../aws/backend.ts';
import { describeBackendRule } from '../plan/backend.ts';
import { annotationFor, checkPorts, DEFAULT_PORT_POLICY, type PortPolicy } from '../plan/ports.ts';
import { desiredState, describeAction, ownerOf, planChanges, planDeletion, replacementReason, targetInstances, type Action, type PlanError } from '../plan/index.ts';
import { observedStatus } from '../plan/status.ts';

export interface NlbControllerDeps {
  client: KubeClient;
  clients: AwsClients;
  env: AwsEnvironment;
  inventory: Inventory;
  nlbs: Informer<NetworkLoadBalancer>;
  services: Informer<V1Service>;
  nodes: Informer<V1Node>;
  events: EventRecorder;
  statusWriter: StatusWriter;
  /** Manage security groups and rules (default true); off: only remove rules added before. */
  manageSecurityGroupRules?: boolean;
  /** Node ports a load balancer may reach and the source-range cap; core defaults when unset. */
  policy?: PortPolicy;
  /** The shared backend group; required when security groups are managed. */
  backend?: BackendGroups;
  /** How soon to look again while the NLB is provisioning. */
  provisioningRequeueMs?: number;
}


const NOUN = 'NLB';
const describe = (a: Action) => describeAction(a, NOUN);

/**
 * Both stages write the one `conditions` list (stage 1 its Accepted, stage 2 Ready and Synced), and a
 * merge patch replaces a list whole: a write built from a stale copy would drop the other stage's
 * condition for good. With the resourceVersion sent, it fails with 409 instead: the status written after
 * the AWS work is written again on the fresh object (`writeStatus`); the other writes run the reconcile again.
 */
const OPTIMISTIC = { optimistic: true } as const;

/** `field: message`, naming the Service annotation too when the CR was translated from a Service. */
function errorText(cr: NetworkLoadBalancer, errors: readonly PlanError[]): string {
  const fromService = controllerOf(cr)?.kind === 'Service';
  return errors
    .map((x) => {
      const annotation = fromService ? annotationFor(x.field) : undefined;
      return `${x.field}${annotation ? ` (${annotation})` : ''}: ${x.message}`;
    })
    .join('; ');
}

/** Conditions other than Ready/Synced (stage 1's Accepted) are kept as they are. */
function withConditions(cr: NetworkLoadBalancer, updates: Parameters<typeof setConditions>[1]): Condition[] {
  return setConditions(cr.status?.conditions as Condition[] | undefined, updates);
}

export function nlbReconciler(deps: NlbControllerDeps) {
  const { clients } = deps;
  const typeOpt = { type: NLB_RESOURCE };

  const serviceOf = (cr: NetworkLoadBalancer): V1Service | undefined =>
    cr.spec.serviceRef ? deps.services.getByName(cr.spec.serviceRef.name, cr.metadata.namespace) : undefined;

  async function fail(cr: NetworkLoadBalancer, svc: V1Service | undefined, reason: string, message: string, ready: boolean): Promise<void> {
    deps.events.warning(cr, reason, message, typeOpt);
    if (svc) deps.events.warning(svc, reason, message, { type: resources.Service });
    const gen = cr.metadata.generation ?? 0;
    const conditions = withConditions(cr, [syncedCondition(false, reason, message, gen), ...(ready ? [] : [readyCondition(false, reason, message, gen)])]);
    await deps.statusWriter.merge(NLB_RESOURCE, cr, { conditions }, OPTIMISTIC);
  }

  /** Ready=False and Synced=False with `reason`, and a Warning on the CR only (its Service is not its to warn). */
  async function refuse(cr: NetworkLoadBalancer, reason: string, message: string): Promise<void> {
    deps.events.warning(cr, reason, message, typeOpt);
    const gen = cr.metadata.generation ?? 0;
    const conditions = withConditions(cr, [syncedCondition(false, reason, message, gen), readyCondition(false, reason, message, gen)]);
    await deps.statusWriter.merge(NLB_RESOURCE, cr, { conditions, observedGeneration: gen }, OPTIMISTIC); // skipped when unchanged
  }

  /**
   * The status after a reconcile. When stage 1 wrote its condition meanwhile (409), the AWS work is
   * not redone for it: the fresh object's other conditions are kept beside this reconcile's Ready and
   * Synced. A changed spec (generation) is left to the next reconcile.
   */
  async function writeStatus(cr: NetworkLoadBalancer, status: NetworkLoadBalancerStatus): Promise<void> {
    try {
      await deps.statusWriter.replace(NLB_RESOURCE, cr, status, OPTIMISTIC);
    } catch (e) {
      if (!isKubeConflict(e)) throw e;
      const fresh = await deps.client.get<NetworkLoadBalancer>(NLB_RESOURCE, cr.metadata.name ?? '', cr.metadata.namespace);
      if (!fresh || fresh.metadata.generation !== cr.metadata.generation) throw e;
      const mine = (c: { type: string }) => c.type === ConditionType.Ready || c.type === ConditionType.Synced;
      const conditions = [...(fresh.status?.conditions ?? []).filter((c) => !mine(c)), ...(status.conditions ?? []).filter(mine)];
      await deps.statusWriter.replace(NLB_RESOURCE, fresh, { ...status, conditions }, OPTIMISTIC);
    }
  }

  async function cleanup(cr: NetworkLoadBalancer, ctx: ReconcileContext): Promise<void> {
    const owner = ownerOf(cr);
    await deps.inventory.ready();
    const groups = await deps.env.allClusterSecurityGroups();
    const actual = await readActual({ clients, owner, status: cr.status, inventory: deps.inventory, securityGroupIds: groups });
    const actions = planDeletion(actual);
    if (actions.length > 0) {
      await applyPlan({ clients, owner, actual, inventory: deps.inventory, noun: NOUN, onApplied: (a) => deps.events.normal(cr, EVENT_REASONS[a.op], describe(a), typeOpt) }, actions);
      ctx.log.info({ actions: actions.map(describe) }, 'AWS resources removed');
    }
    await removeFinalizer(deps.client, NLB_RESOURCE, cr, FINALIZER);
  }

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    let cr = deps.nlbs.get(key);
    if (!cr?.metadata?.name) return;
    if (isBeingDeleted(cr)) {
      if (hasFinalizer(cr, FINALIZER)) await cleanup(cr, ctx);
      return;
    }
    const svc = serviceOf(cr);
    // Before the finalizer and any AWS call: a CR naming a Service another NLB serves changes nothing.
    const conflict = serviceRefConflict(cr, svc);
    if (conflict) {
      await refuse(cr, 'ServiceConflict', conflict);
      return;
    }
    // The API server checks a spec only when it is written: one stored before the CRD learnt a rule
    // (unknown attribute keys, say) is held to it here, before any AWS call.
    const valid = validateNetworkLoadBalancerSpec(cr.spec);
    const invalid = valid.ok ? foreignInstances(cr, deps.nodes.list()) : formatFieldErrors(valid.errors);
    if (invalid) {
      await fail(cr, svc, 'InvalidSpec', invalid, !!cr.status?.loadBalancerArn);
      return;
    }
    const policy = deps.policy ?? DEFAULT_PORT_POLICY;
    // Ports and source ranges too, AWS reads included: a spec that asks for a node port outside the
    // allowed ranges, or too many client CIDRs, changes nothing in AWS.
    const refused = checkPorts(cr, policy);
    if (refused.length > 0) {
      await fail(cr, svc, 'InvalidSpec', errorText(cr, refused), !!cr.status?.loadBalancerArn);
      return;
    }
    cr = await addFinalizer(deps.client, NLB_RESOURCE, cr, FINALIZER);
    const gen = cr.metadata.generation ?? 0;
    const owner = ownerOf(cr);
    const scheme = cr.spec.scheme ?? 'internal';

    // Inputs first: any problem here stops before the first AWS change.
    const instanceIds = targetInstances(cr, deps.nodes.list());
    let resolved;
    try {
      const vpcId = await deps.env.vpcId(instanceIds);
      const [subnets, vpcCidr, securityGroupIds] = await Promise.all([
        deps.env.subnets(vpcId, scheme, cr.spec.subnets),
        deps.env.vpcCidr(vpcId),
        deps.manageSecurityGroupRules === false ? Promise.resolve([]) : deps.env.nodeSecurityGroups(vpcId, instanceIds),
      ]);
      resolved = { vpcId, subnets, vpcCidr, securityGroupIds };
    } catch (e) {
      if (e instanceof ResolveError) {
        await fail(cr, svc, 'InvalidSpec', `${e.field}: ${e.message}`, !!cr.status?.loadBalancerArn);
        return;
      }
      if (e instanceof SubnetSelectionError) {
        await fail(cr, svc, 'NoSubnets', `spec.subnets: ${e.message} (missing tags: ${e.missingTags.join(', ')})`, !!cr.status?.loadBalancerArn);
        return;
      }
      throw e;
    }
    const inputs = { cluster: clients.cluster, nlb: cr, service: svc, instanceIds, policy, ...resolved };
    let d = desiredState(inputs);
    if (!d.ok) {
      await fail(cr, svc, 'InvalidSpec', errorText(cr, d.errors), !!cr.status?.loadBalancerArn);
      return;
    }
    // Valid: make sure the shared backend group exists and the node groups trust it, then plan with it.
    if (deps.backend && resolved.securityGroupIds.length > 0) {
      const protocols = new Set<'tcp' | 'udp'>(['tcp']);
      if (d.desired.targetGroups.some((t) => t.protocol === 'UDP' || t.protocol === 'TCP_UDP')) protocols.add('udp');
      let ensured;
      try {
        ensured = await deps.backend.ensure(resolved.vpcId, resolved.securityGroupIds, protocols);
      } catch (e) {
        const c = classifyAwsError(e);
        await fail(cr, svc, c.kind === 'throttled' ? 'AwsThrottled' : 'AwsError', `backend security group: ${c.code}: ${c.message}`, !!cr.status?.loadBalancerArn).catch(() => undefined);
        throw e;
      }
      for (const r of ensured.added) deps.events.normal(cr, 'AuthorizedIngress', `allow ${describeBackendRule(r)} from the shared backend group ${ensured.groupId} on ${r.groupId}`, typeOpt);
      for (const r of ensured.removed) deps.events.normal(cr, 'RevokedIngress', `revoke ${r.protocol}/${r.fromPort ?? ''}-${r.toPort ?? ''} from the shared backend group ${ensured.groupId} on ${r.groupId}: no longer an allowed port`, typeOpt);
      d = desiredState({ ...inputs, backendGroupId: ensured.groupId });
      if (!d.ok) throw new Error('desired state became invalid with the backend group');
    }
    const desired = d.desired;

    await deps.inventory.ready();
    const actual = await readActual({ clients, owner, status: cr.status, desired, inventory: deps.inventory, securityGroupIds: resolved.securityGroupIds });
    const plan = planChanges(desired, actual);
    if (!plan.keep && actual.loadBalancers.length > 0) {
      const why = actual.loadBalancers.map((lb) => replacementReason(desired.loadBalancer, lb)).find(Boolean) ?? 'it no longer matches';
      deps.events.normal(cr, 'ReplacingLoadBalancer', `replacing NLB ${actual.loadBalancers.map((lb) => lb.name).join(', ')}: ${why} (AWS cannot change this in place); the DNS name changes`, typeOpt);
    }
    let applied: ApplyResult;
    try {
      applied = await applyPlan(
        { clients, owner, actual, keepArn: plan.keep?.arn, groupId: plan.group?.id, inventory: deps.inventory, noun: NOUN, onApplied: (a) => deps.events.normal(cr, EVENT_REASONS[a.op], describe(a), typeOpt) },
        plan.actions,
      );
    } catch (e) {
      const c = classifyAwsError(e);
      await fail(cr, svc, c.kind === 'throttled' ? 'AwsThrottled' : 'AwsError', `${c.code}: ${c.message}`, !!cr.status?.loadBalancerArn).catch(() => undefined);
      throw e;
    }
    if (plan.actions.length > 0) ctx.log.info({ calls: applied.calls, actions: plan.actions.map(describe) }, 'AWS changed');

    const observed = observedStatus(desired, actual, plan.keep, applied);
    const ruleProblem = applied.ruleError ? classifyAwsError(applied.ruleError) : undefined;
    if (ruleProblem) {
      const msg = `security-group rules for the clients could not be added: ${ruleProblem.code}: ${ruleProblem.message}`;
      deps.events.warning(cr, 'SecurityGroupRulesFailed', msg, typeOpt);
      if (svc) deps.events.warning(svc, 'SecurityGroupRulesFailed', msg, { type: resources.Service });
    }
    const active = observed.state === 'active' && !ruleProblem;
    const message = ruleProblem
      ? `security-group rules missing: ${ruleProblem.code}: ${ruleProblem.message}`
      : active
        ? `${observed.dnsName ?? ''}: ${desired.listeners.length} listener(s), ${desired.targets.length} target(s)`
        : `NLB is ${observed.state ?? 'unknown'}`;
    const status: NetworkLoadBalancerStatus = {
      ...observed,
      observedGeneration: gen,
      conditions: withConditions(cr, [
        readyCondition(active, ruleProblem ? 'SecurityGroupRulesFailed' : active ? 'Active' : 'Provisioning', message, gen),
        ruleProblem
          ? syncedCondition(false, 'SecurityGroupRulesFailed', message, gen)
          : syncedCondition(true, 'Reconciled', plan.actions.length > 0 ? `${plan.actions.length} change(s) applied` : 'in sync', gen),
      ]),
    };
    // Keep the Synced message stable in the steady state so status is not rewritten for nothing.
    const prevSynced = cr.status?.conditions?.find((c) => c.type === ConditionType.Synced);
    if (plan.actions.length === 0 && prevSynced?.status === 'True') {
      status.conditions = status.conditions?.map((c) => (c.type === ConditionType.Synced ? { ...c, message: prevSynced.message } : c));
    }
    await writeStatus(cr, status);
    if (svc && plan.actions.length > 0) deps.events.normal(svc, 'EnsuredLoadBalancer', `NLB ${observed.loadBalancerName ?? ''} ${observed.dnsName ?? ''}`, { type: resources.Service });
    if (ruleProblem) return { requeueAfter: Math.max(ruleProblem.retryAfterMs ?? 0, 60_000) };
    if (!active) return { requeueAfter: deps.provisioningRequeueMs ?? 5_000 };
    return;
  };
}
