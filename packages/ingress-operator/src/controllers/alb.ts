// Stage 2: reconciles an ApplicationLoadBalancer against AWS — resolve inputs (targets, VPC, subnets,
// security groups), read the actual state by owner tags, plan, apply the fewest calls, write status.
// Input problems become conditions and Warning Events before any AWS call, so a working ALB keeps
// serving what it served. AWS errors are thrown to the work queue, which backs off.
import type { V1Node, V1Service } from '@kubernetes/client-node';
import type { ApplicationLoadBalancer, ApplicationLoadBalancerStatus } from '@kube-iaas/crds';
import {
  ConditionType,
  addFinalizer,
  hasFinalizer,
  isBeingDeleted,
  readyCondition,
  removeFinalizer,
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
import { ResolveError, classifyAwsError, type AwsClients, type AwsEnvironment } from '@kube-iaas/core/aws';
import { SubnetSelectionError } from '@kube-iaas/core/tags';
import { FINALIZER } from '../constants.ts';
import { EVENT_REASONS } from '@kube-iaas/elbv2';
import { applyPlan, isStillInUse, readActual, type ApplyResult, type Inventory } from '../aws/index.ts';
import { desiredState, describeAction, isComplete, observedStatus, ownerOf, planChanges, planDeletion, type Action, type ActualState } from '../plan/index.ts';
import { ALB_RESOURCE, targetInstances } from './common.ts';

export interface AlbControllerDeps {
  client: KubeClient;
  clients: AwsClients;
  env: AwsEnvironment;
  inventory: Inventory;
  albs: Informer<ApplicationLoadBalancer>;
  services: Informer<V1Service>;
  nodes: Informer<V1Node>;
  events: EventRecorder;
  statusWriter: StatusWriter;
  /** How soon to look again while the ALB is provisioning or targets are settling. */
  provisioningRequeueMs?: number;
}

// The rules an ALB's group holds on the node groups are reported as backend rules.
export const EVENT_REASON: Record<Action['op'], string> = { ...EVENT_REASONS, authorizeNodeRules: 'AuthorizedBackend', revokeNodeRules: 'RevokedBackend' };

const NOUN = 'ALB';
const describe = (a: Action) => describeAction(a, NOUN);

// Both stages write the status from their caches: a write over a newer one is refused (409) and retried.
const OPTIMISTIC = { optimistic: true };

/** Conditions other than Ready/Synced (stage 1's Accepted) are kept as they are. */
function withConditions(cr: ApplicationLoadBalancer, updates: Parameters<typeof setConditions>[1]): Condition[] {
  return setConditions(cr.status?.conditions as Condition[] | undefined, updates);
}

export function albReconciler(deps: AlbControllerDeps) {
  const { clients } = deps;
  const typeOpt = { type: ALB_RESOURCE };

  async function fail(cr: ApplicationLoadBalancer, reason: string, message: string): Promise<void> {
    deps.events.warning(cr, reason, message, typeOpt);
    const gen = cr.metadata.generation ?? 0;
    const serving = !!cr.status?.loadBalancerArn;
    // A working ALB stays Ready (it serves what it served); Synced says the latest spec is not applied.
    const conditions = withConditions(cr, [syncedCondition(false, reason, message, gen), ...(serving ? [] : [readyCondition(false, reason, message, gen)])]);
    await deps.statusWriter.merge(ALB_RESOURCE, cr, { conditions }, OPTIMISTIC);
  }

  async function read(cr: ApplicationLoadBalancer, desired: Parameters<typeof readActual>[0]['desired'], nodeSecurityGroupIds: readonly string[]): Promise<ActualState> {
    await deps.inventory.ready();
    return readActual({ clients, owner: ownerOf(cr), status: cr.status, desired, inventory: deps.inventory, nodeSecurityGroupIds });
  }

  async function apply(cr: ApplicationLoadBalancer, actual: ActualState, actions: readonly Action[], log: ReconcileContext['log'], keepArn?: string, groupId?: string): Promise<ApplyResult> {
    return applyPlan({ clients, owner: ownerOf(cr), actual, keepArn, groupId, inventory: deps.inventory, logger: log, noun: NOUN, onApplied: (a) => deps.events.normal(cr, EVENT_REASON[a.op], describe(a), typeOpt) }, actions);
  }

  async function cleanup(cr: ApplicationLoadBalancer, ctx: ReconcileContext): Promise<void> {
    const groups = await deps.env.allClusterSecurityGroups();
    const actual = await read(cr, undefined, groups);
    const actions = planDeletion(actual);
    if (actions.length > 0) {
      // ResourceInUse / DependencyViolation (the ALB's network interfaces hold its security group for a
      // while) is thrown at once: the queue backs off per key and the next attempt reads and plans only
      // what is left, and no worker waits meanwhile. The finalizer stays until everything is gone.
      await apply(cr, actual, actions, ctx.log);
      ctx.log.info({ actions: actions.map(describe) }, 'AWS resources removed');
    }
    await removeFinalizer(deps.client, ALB_RESOURCE, cr, FINALIZER);
  }

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    let cr = deps.albs.get(key);
    if (!cr?.metadata?.name) return;
    if (isBeingDeleted(cr)) {
      if (hasFinalizer(cr, FINALIZER)) await cleanup(cr, ctx);
      return;
    }
    cr = await addFinalizer(deps.client, ALB_RESOURCE, cr, FINALIZER);
    const gen = cr.metadata.generation ?? 0;
    const scheme = cr.spec.scheme ?? 'internal';

    // Inputs first: any problem here stops before the first AWS change.
    const instanceIds = targetInstances(deps.nodes.list());
    let resolved;
    try {
      const vpcId = await deps.env.vpcId(instanceIds);
      const [subnets, vpcCidr, nodeSecurityGroupIds, securityGroupIds] = await Promise.all([
        deps.env.subnets(vpcId, scheme, cr.spec.subnets),
        deps.env.vpcCidr(vpcId),
        cr.spec.manageBackendSecurityGroupRules === false ? Promise.resolve([]) : deps.env.nodeSecurityGroups(vpcId, instanceIds),
        cr.spec.securityGroups?.length ? deps.env.securityGroups(vpcId, cr.spec.securityGroups) : Promise.resolve(undefined),
      ]);
      resolved = { vpcId, subnetIds: subnets.map((s) => s.id).sort(), vpcCidr, nodeSecurityGroupIds, securityGroupIds };
    } catch (e) {
      if (e instanceof ResolveError) {
        await fail(cr, 'InvalidSpec', `${e.field}: ${e.message}`);
        return;
      }
      if (e instanceof SubnetSelectionError) {
        await fail(cr, 'NoSubnets', `spec.subnets: ${e.message} (missing tags: ${e.missingTags.join(', ')})`);
        return;
      }
      throw e;
    }
    const services = deps.services.list(cr.metadata.namespace);
    const d = desiredState({ cluster: clients.cluster, alb: cr, instanceIds, services, ...resolved });
    if (!d.ok) {
      await fail(cr, 'InvalidSpec', d.errors.map((x) => `${x.field}: ${x.message}`).join('; '));
      return;
    }
    const desired = d.desired;

    let actual = await read(cr, desired, resolved.nodeSecurityGroupIds);
    const plan = planChanges(desired, actual);
    let ruleError: unknown;
    if (plan.actions.length > 0) {
      try {
        ruleError = (await apply(cr, actual, plan.actions, ctx.log, plan.keep?.arn, plan.group?.id)).ruleError;
      } catch (e) {
        // Still in use (a target group for a moment after its rules go): not a failure to show, a retry.
        if (isStillInUse(e)) throw e;
        const c = classifyAwsError(e);
        await fail(cr, c.kind === 'throttled' ? 'AwsThrottled' : 'AwsError', `${c.code}: ${c.message}`).catch(() => undefined);
        throw e;
      }
      ctx.log.info({ actions: plan.actions.map(describe) }, 'AWS changed');
      // Status comes from what AWS holds now (ARNs of what was just created included).
      actual = await read(cr, desired, resolved.nodeSecurityGroupIds);
    }

    const observed = observedStatus(desired, actual);
    const ruleProblem = ruleError ? classifyAwsError(ruleError) : undefined;
    if (ruleProblem) deps.events.warning(cr, 'SecurityGroupRulesFailed', `rules for the NodePorts on the node security group could not be added: ${ruleProblem.code}: ${ruleProblem.message}`, typeOpt);
    const complete = isComplete(desired, observed) && !ruleProblem;
    const message = ruleProblem
      ? `node security-group rules missing: ${ruleProblem.code}: ${ruleProblem.message}`
      : complete
      ? `${observed.dnsName ?? ''}: ${desired.listeners.length} listener(s), ${desired.rules.length} rule(s), ${desired.targetGroups.length} target group(s), ${desired.targets.length} target(s) each`
      : `ALB is ${observed.state ?? 'being created'}`;
    const status: ApplicationLoadBalancerStatus = {
      ...observed,
      observedGeneration: gen,
      ...(cr.status?.ingresses ? { ingresses: cr.status.ingresses } : {}),
      conditions: withConditions(cr, [
        readyCondition(complete, ruleProblem ? 'SecurityGroupRulesFailed' : complete ? 'Active' : 'Provisioning', message, gen),
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
    await deps.statusWriter.replace(ALB_RESOURCE, cr, status, OPTIMISTIC);
    if (ruleProblem) return { requeueAfter: Math.max(ruleProblem.retryAfterMs ?? 0, 60_000) };
    if (!complete) return { requeueAfter: deps.provisioningRequeueMs ?? 5_000 };
    return;
  };
}
