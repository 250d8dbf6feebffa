// Runs a plan: each change goes to the deployer of its resource kind, in order, inside the owner's guard
// scope (every create carries the owner tags, every change is checked against the resource's tags).
import { describeAction, type Action } from '../changes.ts';
import { Deployment, type ApplyContext, type ApplyResult } from './deployment.ts';
import { deployListener } from './listener.ts';
import { deployLoadBalancer } from './load-balancer.ts';
import { deployNodeRules } from './node-rules.ts';
import { deployRule } from './rule.ts';
import { deploySecurityGroup } from './security-group.ts';
import { deployTargetGroup } from './target-group.ts';

function deploy(run: Deployment, a: Action): Promise<void> {
  switch (a.op) {
    case 'createSecurityGroup':
    case 'authorizeGroupIngress':
    case 'revokeGroupIngress':
    case 'deleteSecurityGroup':
      return deploySecurityGroup(run, a);
    case 'authorizeNodeRules':
    case 'revokeNodeRules':
      return deployNodeRules(run, a);
    case 'createLoadBalancer':
    case 'deleteLoadBalancer':
    case 'setSubnets':
    case 'setIpAddressType':
    case 'setSecurityGroups':
    case 'modifyLoadBalancerAttributes':
    case 'addTags':
      return deployLoadBalancer(run, a);
    case 'createTargetGroup':
    case 'modifyTargetGroup':
    case 'modifyTargetGroupAttributes':
    case 'registerTargets':
    case 'deregisterTargets':
    case 'deleteTargetGroup':
      return deployTargetGroup(run, a);
    case 'createListener':
    case 'modifyListener':
    case 'deleteListener':
      return deployListener(run, a);
    case 'createRule':
    case 'modifyRule':
    case 'deleteRule':
      return deployRule(run, a);
  }
}

/**
 * Runs `actions` in order and says what they produced. `ownerScope: false` runs outside the owner's
 * guard scope, where the guard still demands each resource be owned by this cluster.
 */
export async function applyPlan(ctx: ApplyContext, actions: readonly Action[], opts: { ownerScope?: boolean } = {}): Promise<ApplyResult> {
  const run = new Deployment(ctx);
  const { owner } = ctx;
  const all = async () => {
    for (const a of actions) {
      ctx.logger?.info({ owner: `${owner.namespace ?? ''}/${owner.name}`, op: a.op }, describeAction(a, ctx.noun));
      const errorBefore = run.result.ruleError;
      await deploy(run, a);
      if (run.result.ruleError !== errorBefore) continue; // reported by the caller, not as applied
      run.result.calls++;
      ctx.onApplied?.(a);
    }
  };
  if (opts.ownerScope === false) await all();
  else await ctx.clients.guard.asOwner(owner, all);
  return run.result;
}
