// The pure parts of the controllers: which Nodes are targets, member status, which groups an event
// wakes, and the status built from actual state.
import { describe, expect, it } from 'vitest';
import type { V1Ingress, V1Node } from '@kubernetes/client-node';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { EXCLUDE_FROM_LB_LABEL, instanceIdOf, targetInstances, targetRelevant } from '../../src/controllers/common.ts';
import { ingressKeys, memberStatus, servicesOf } from '../../src/controllers/ingress.ts';
import { desiredState, isComplete, observedStatus, type ActualState, type DesiredState } from '../../src/plan/index.ts';
import { CLASSES, SERVICES, ingress, path, translateAll, translated } from './fixtures.ts';

function node(name: string, id: string | undefined, opts: { ready?: boolean; labels?: Record<string, string>; deleting?: boolean } = {}): V1Node {
  return {
    metadata: { name, labels: opts.labels ?? {}, ...(opts.deleting ? { deletionTimestamp: new Date() } : {}) },
    spec: id ? { providerID: `aws:///cn-northwest-1a/${id}` } : {},
    status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as V1Node;
}

describe('targets', () => {
  it('every Ready node with an AWS providerID, except excluded and deleting ones, sorted', () => {
    const nodes = [node('c', 'i-0000000c'), node('a', 'i-0000000a'), node('b', 'i-0000000b', { ready: false }), node('d', 'i-0000000d', { labels: { [EXCLUDE_FROM_LB_LABEL]: '' } }), node('e', 'i-0000000e', { deleting: true }), node('f', undefined), node('a2', 'i-0000000a')];
    expect(targetInstances(nodes)).toEqual(['i-0000000a', 'i-0000000c']);
    expect(instanceIdOf(node('x', 'i-0123456789abcdef0'))).toBe('i-0123456789abcdef0');
  });
  it('a Node update matters only when readiness, instance, exclusion or deletion changes', () => {
    const a = node('a', 'i-0000000a');
    expect(targetRelevant({ ...a, metadata: { ...a.metadata, labels: { other: 'x' } } }, a)).toBe(false);
    expect(targetRelevant(node('a', 'i-0000000a', { ready: false }), a)).toBe(true);
    expect(targetRelevant(node('a', 'i-0000000a', { labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' } }), a)).toBe(true);
    expect(targetRelevant(a, undefined)).toBe(true);
  });
});

describe('stage 1 helpers', () => {
  it('memberStatus names the broken member and the annotation', () => {
    const ok = ingress('a', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/group.name': 'g' } });
    const bad = ingress('b', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/group.name': 'g', 'alb.ingress.kubernetes.io/listen-ports': 'nope' }, paths: [path('/b', 'kubernetes-bootcamp-v2')] });
    const s = memberStatus(translateAll([ok, bad]));
    expect(s.ok).toBe(false);
    expect(s.ingresses).toEqual([{ name: 'a', applied: true }, expect.objectContaining({ name: 'b', applied: false, reason: 'InvalidIngress' })]);
    expect(s.message).toContain('Ingress b: alb.ingress.kubernetes.io/listen-ports');
    expect(memberStatus(translateAll([ok])).ok).toBe(true);
  });
  it('servicesOf lists backend Services; ingressKeys wakes the old and the new group', () => {
    const ing = ingress('a') as V1Ingress;
    expect([...servicesOf(ing)].sort()).toEqual(['kubernetes-bootcamp-v1', 'kubernetes-bootcamp-v2']);
    const moved = { ...ing, metadata: { ...ing.metadata, annotations: { ...ing.metadata?.annotations, 'alb.ingress.kubernetes.io/group.name': 'shop' } } };
    expect(ingressKeys(moved, ing, CLASSES as never).sort()).toEqual(['default/a', 'default/shop']);
    const other = { ...ing, metadata: { ...ing.metadata, annotations: { 'kubernetes.io/ingress.class': 'nginx' } } };
    expect(ingressKeys(other, undefined, CLASSES as never)).toEqual([]);
    expect(ingressKeys({ ...other, metadata: { ...other.metadata, finalizers: ['elb.kube-iaas.dev/finalizer'] } }, undefined, CLASSES as never)).toEqual(['default/a']);
  });
});

describe('status from actual state', () => {
  const alb: ApplicationLoadBalancer = { ...translated([ingress('bootcamp')]), metadata: { ...translated([ingress('bootcamp')]).metadata, uid: 'u1' } };
  const r = desiredState({ cluster: 'c', alb, instanceIds: ['i-1', 'i-2', 'i-3'], vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16', subnetIds: ['s-a', 's-b'], nodeSecurityGroupIds: ['sg-node'], services: SERVICES });
  if (!r.ok) throw new Error('desired');
  const d: DesiredState = r.desired;

  it('nothing in AWS: no ARNs, not complete', () => {
    const s = observedStatus(d, { loadBalancers: [], securityGroups: [], nodeRules: [], targetGroups: [], listeners: [], rules: [] });
    expect(s.loadBalancerArn).toBeUndefined();
    expect(s.rules?.map((x) => x.ruleArn)).toEqual([undefined, undefined]);
    expect(isComplete(d, s)).toBe(false);
  });

  it('everything in place: ARNs, priorities, targets; provisioning is not complete', () => {
    const lb = { arn: 'arn:lb', name: d.loadBalancer.name, type: 'application', scheme: 'internet-facing', subnetIds: ['s-b', 's-a'], securityGroupIds: ['sg-1'], dnsName: 'x.elb', state: 'active', tags: {} };
    const actual: ActualState = {
      loadBalancers: [lb],
      securityGroups: [{ id: 'sg-1', name: d.securityGroup?.name ?? '', tags: {}, ingress: [] }],
      nodeRules: [{ groupId: 'sg-node', protocol: 'tcp', port: 31001, sourceGroupId: 'sg-1', id: 'sgr-2' }],
      targetGroups: d.targetGroups.map((t, i) => ({ arn: `arn:tg${i}`, name: t.name, healthCheck: {}, tags: {}, targets: ['i-1', 'i-2', 'i-3'], healthyTargets: 3 })),
      listeners: [{ arn: 'arn:l', loadBalancerArn: 'arn:lb', port: 18080, protocol: 'HTTP', certificateArns: [], forwardArns: [] }],
      rules: d.rules.map((x, i) => ({ arn: `arn:r${i}`, listenerArn: 'arn:l', listenerPort: x.listenerPort, priority: x.priority, hosts: x.hosts, paths: x.paths, forwardArns: [] })),
    };
    const s = observedStatus(d, actual);
    expect(s).toMatchObject({ loadBalancerArn: 'arn:lb', dnsName: 'x.elb', subnetIds: ['s-a', 's-b'], securityGroupId: 'sg-1', listeners: [{ port: 18080, protocol: 'HTTP', listenerArn: 'arn:l' }] });
    expect(s.rules).toEqual(d.rules.map((x, i) => ({ listenerPort: 18080, priority: x.priority, ruleArn: `arn:r${i}` })));
    expect(s.targetGroups?.map((t) => t.targets)).toEqual([3, 3]);
    expect(s.securityGroupRules).toEqual([{ securityGroupId: 'sg-node', ruleId: 'sgr-2' }]);
    expect(isComplete(d, s)).toBe(true);
    expect(isComplete(d, observedStatus(d, { ...actual, loadBalancers: [{ ...lb, state: 'provisioning' }] }))).toBe(false);
  });
});
