// Pure: the load balancer to keep and the changes that bring it to the model. What AWS cannot change in
// place (type, scheme, name) makes a new one beside the old; the old goes once the new one serves.
import { changedEntries, deepEqual, diffTags } from '@kube-iaas/core/runtime';
import type { LoadBalancerChange } from '../changes.ts';
import type { ActualLoadBalancer, LoadBalancerModel } from '../model.ts';

/** Why an existing load balancer cannot serve the model and must be replaced; undefined if it can. */
export function replacementReason(desired: LoadBalancerModel, actual: ActualLoadBalancer): string | undefined {
  if (actual.type && actual.type !== desired.type) return `it is of type ${actual.type}, not ${desired.type}`;
  if (actual.scheme !== desired.scheme) return `scheme changes from ${actual.scheme} to ${desired.scheme}`;
  if (actual.name !== desired.name) return `name changes from ${actual.name} to ${desired.name}`;
  return undefined;
}

/** The load balancer to keep: one that can serve the model, the oldest first. */
export function pickKeep(desired: LoadBalancerModel, lbs: readonly ActualLoadBalancer[]): ActualLoadBalancer | undefined {
  const matching = lbs.filter((lb) => !replacementReason(desired, lb));
  return [...matching].sort((a, b) => (a.createdTime?.getTime() ?? 0) - (b.createdTime?.getTime() ?? 0) || (a.arn < b.arn ? -1 : 1))[0];
}

export interface LoadBalancerDiff {
  keep?: ActualLoadBalancer;
  /** Room for a reused name, the create or the updates, the attributes. */
  apply: LoadBalancerChange[];
  /** Replaced and duplicate load balancers: deleted once the kept or new one serves. */
  remove: LoadBalancerChange[];
}

/**
 * `securityGroups` are the model's with `OWN_GROUP` resolved as far as it can be (still `OWN_GROUP`
 * when the group is created by the same plan).
 */
export function diffLoadBalancer(desired: LoadBalancerModel, securityGroups: readonly string[], actual: readonly ActualLoadBalancer[]): LoadBalancerDiff {
  const keep = pickKeep(desired, actual);
  const others = actual.filter((lb) => lb !== keep);
  const apply: LoadBalancerChange[] = [];
  // A replaced load balancer whose name the new one reuses (a fixed name in the spec) must go first.
  const collide = keep ? [] : others.filter((lb) => lb.name === desired.name);
  for (const lb of collide) apply.push({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: 'name-collision' });
  const groups = [...securityGroups].sort();
  if (!keep) apply.push({ op: 'createLoadBalancer', lb: { ...desired, securityGroups: groups } });
  else {
    if (!deepEqual(keep.securityGroupIds, groups)) apply.push({ op: 'setSecurityGroups', arn: keep.arn, securityGroups: groups });
    if (!deepEqual([...keep.subnetIds].sort(), desired.subnetIds)) apply.push({ op: 'setSubnets', arn: keep.arn, subnetIds: desired.subnetIds });
    if (keep.ipAddressType && keep.ipAddressType !== desired.ipAddressType) apply.push({ op: 'setIpAddressType', arn: keep.arn, ipAddressType: desired.ipAddressType });
    const tags = diffTags(desired.tags, keep.tags);
    if (!tags.empty) apply.push({ op: 'addTags', arns: [keep.arn], tags: tags.toAdd });
  }
  const attributes = keep ? changedEntries(desired.attributes, keep.attributes) : desired.attributes;
  if (Object.keys(attributes).length > 0) apply.push({ op: 'modifyLoadBalancerAttributes', arn: keep?.arn ?? '', attributes });
  const remove: LoadBalancerChange[] = others
    .filter((lb) => !collide.includes(lb))
    .map((lb) => ({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: replacementReason(desired, lb) ? 'replaced' : 'duplicate' }));
  return { ...(keep ? { keep } : {}), apply, remove };
}
