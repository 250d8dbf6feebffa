// Pure: the NLB's plan is the shared ELBv2 plan (packages/elbv2) on the model adjusted to what exists.
// AWS accepts security groups on an NLB only if it was created with some, so an NLB made without them
// (before the frontend/backend model, or with group management off) keeps being served through rules on
// the node groups until it is replaced; every new NLB gets its own frontend group and the backend group.
import { pickKeep, planChanges as planModel, type Model } from '@kube-iaas/elbv2';
import type { ActualState, DesiredState, Plan } from './types.ts';

export { planDeletion, replacementReason, healthCheckDiffers } from '@kube-iaas/elbv2';

/** The model to plan with: frontend/backend groups, or node-group rules for an NLB without groups. */
export function modelFor(desired: DesiredState, actual: ActualState): Model {
  const keep = pickKeep(desired.loadBalancer, actual.loadBalancers);
  const legacy = keep !== undefined && keep.securityGroupIds.length === 0;
  const useGroups = desired.securityGroup !== undefined && desired.loadBalancer.securityGroups.length > 0 && !legacy;
  if (useGroups) return { ...desired, nodeRules: [] };
  // Groups an existing NLB has stay as they are (they cannot be taken away); a new one gets none.
  return { ...desired, securityGroup: undefined, loadBalancer: { ...desired.loadBalancer, securityGroups: keep ? [...keep.securityGroupIds] : [] } };
}

export function planChanges(desired: DesiredState, actual: ActualState): Plan {
  return planModel(modelFor(desired, actual), actual);
}
