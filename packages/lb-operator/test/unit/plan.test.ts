import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { parseOwnerDescription, taggedOwner } from '@kube-iaas/core/tags';
import { OWN_GROUP } from '@kube-iaas/elbv2';
import {
  cidrContains,
  desiredState,
  instanceIdOf,
  loadBalancerName,
  planChanges,
  planDeletion,
  targetInstances,
  type ActualState,
  type DesiredInputs,
  type DesiredState,
} from '../../src/plan/index.ts';

const CLUSTER = 'int32bit-kubernetes';

function nlb(patch: Partial<NetworkLoadBalancer['spec']> = {}): NetworkLoadBalancer {
  return {
    apiVersion: 'elb.kube-iaas.dev/v1alpha1',
    kind: 'NetworkLoadBalancer',
    metadata: { name: 'kubernetes-bootcamp-v1', namespace: 'default', uid: 'nlb-uid-1', generation: 1 },
    spec: {
      serviceRef: { name: 'kubernetes-bootcamp-v1' },
      scheme: 'internet-facing',
      ipAddressType: 'ipv4',
      listeners: [{ port: 8080, protocol: 'TCP', targetPort: 31905 }],
      healthCheck: { protocol: 'TCP', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 },
      ...patch,
    },
  };
}

function inputs(n: NetworkLoadBalancer, patch: Partial<DesiredInputs> = {}): DesiredInputs {
  return {
    cluster: CLUSTER,
    nlb: n,
    instanceIds: ['i-a', 'i-b', 'i-c'],
    vpcId: 'vpc-1',
    vpcCidr: '192.168.192.0/22',
    subnets: [
      { id: 'subnet-pub-a', cidrBlock: '192.168.192.0/24' },
      { id: 'subnet-pub-b', cidrBlock: '192.168.194.0/24' },
    ],
    securityGroupIds: ['sg-node'],
    ...patch,
  };
}

function desired(n = nlb(), patch: Partial<DesiredInputs> = {}): DesiredState {
  const r = desiredState(inputs(n, patch));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.desired;
}

const EMPTY: ActualState = { loadBalancers: [], listeners: [], targetGroups: [], rules: [], nodeRules: [], securityGroups: [] };

/** The actual state that exactly matches `d` (as AWS would report it after applying the plan). */
function converged(d: DesiredState, lbArn = 'arn:lb/1'): ActualState {
  const sg = d.securityGroup && d.loadBalancer.securityGroups.length > 0 ? d.securityGroup : undefined;
  const groups = sg ? d.loadBalancer.securityGroups.map((g) => (g === OWN_GROUP ? 'sg-front' : g)).sort() : [];
  return {
    loadBalancers: [{ arn: lbArn, name: d.loadBalancer.name, type: 'network', scheme: d.loadBalancer.scheme, ipAddressType: d.loadBalancer.ipAddressType, subnetIds: [...d.loadBalancer.subnetIds], securityGroupIds: groups, tags: d.loadBalancer.tags, dnsName: 'x.elb', state: 'active' }],
    targetGroups: d.targetGroups.map((tg) => ({ arn: `arn:tg/${tg.name}`, name: tg.name, protocol: tg.protocol, port: tg.port, vpcId: tg.vpcId, healthCheck: { ...tg.healthCheck }, tags: tg.tags, targets: [...d.targets], healthyTargets: d.targets.length })),
    listeners: d.listeners.map((l) => ({ arn: `arn:l/${l.port}`, loadBalancerArn: lbArn, port: l.port, protocol: l.protocol, defaultAction: l.defaultAction, forwardArns: [], certificateArns: l.certificateArns ?? [], sslPolicy: 'ELBSecurityPolicy-2016-08' })),
    rules: [],
    nodeRules: sg ? [] : d.nodeRules.map((r, i) => ({ ...r, id: `sgr-${i}`, description: d.ruleDescription })),
    securityGroups: sg ? [{ id: 'sg-front', name: sg.name, tags: sg.tags, ingress: sg.ingress.map((r, i) => ({ ...r, id: `sgr-f${i}` })) }] : [],
  };
}

const ops = (p: { actions: { op: string }[] }) => p.actions.map((a) => a.op);

describe('names', () => {
  it('fit in 32 characters and are stable', () => {
    const i = { cluster: CLUSTER, namespace: 'a-very-long-namespace-name', name: 'a-very-long-service-name-indeed', uid: 'u', scheme: 'internal' };
    expect(loadBalancerName(i).length).toBeLessThanOrEqual(32);
    expect(loadBalancerName(i)).toBe(loadBalancerName(i));
    expect(loadBalancerName(i)).not.toBe(loadBalancerName({ ...i, scheme: 'internet-facing' }));
    expect(loadBalancerName(i)).toMatch(/^k8s-a-very-l-a-very-l-[0-9a-f]{10}$/);
  });
});

describe('targets', () => {
  const node = (name: string, id: string, labels: Record<string, string> = {}): V1Node => ({ metadata: { name, labels }, spec: { providerID: `aws:///cn-northwest-1a/${id}` } });
  it('reads the instance from the providerID', () => {
    expect(instanceIdOf(node('n', 'i-00000abc'))).toBe('i-00000abc');
    expect(instanceIdOf({ metadata: { name: 'x' }, spec: { providerID: 'kind://docker/x' } })).toBeUndefined();
  });
  it('takes every node except excluded ones, filtered by the node selector', () => {
    const nodes = [node('a', 'i-0000000a', { role: 'edge' }), node('b', 'i-0000000b'), node('c', 'i-0000000c', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })];
    expect(targetInstances(nlb(), nodes)).toEqual(['i-0000000a', 'i-0000000b']);
    expect(targetInstances(nlb({ targets: { nodeSelector: { role: 'edge' } } }), nodes)).toEqual(['i-0000000a']);
    expect(targetInstances(nlb({ targets: { instanceIds: ['i-z'] } }), nodes)).toEqual(['i-z']);
  });
});

describe('desiredState', () => {
  it('builds the article NLB: owner-tagged, one TCP target group on the NodePort, rules naming the owner', () => {
    const d = desired();
    expect(d.loadBalancer).toMatchObject({ scheme: 'internet-facing', subnetIds: ['subnet-pub-a', 'subnet-pub-b'] });
    expect(taggedOwner(d.loadBalancer.tags)).toEqual({ cluster: CLUSTER, kind: 'NetworkLoadBalancer', namespace: 'default', name: 'kubernetes-bootcamp-v1', uid: 'nlb-uid-1' });
    expect(d.loadBalancer.tags['kubernetes.io/cluster/int32bit-kubernetes']).toBe('owned');
    expect(d.loadBalancer.tags['kubernetes.io/service-name']).toBe('default/kubernetes-bootcamp-v1');
    expect(d.targetGroups).toHaveLength(1);
    expect(d.targetGroups[0]).toMatchObject({ listenerPort: 8080, protocol: 'TCP', port: 31905, vpcId: 'vpc-1' });
    expect(d.listeners).toEqual([{ port: 8080, protocol: 'TCP', defaultAction: { type: 'forward', targetGroups: [{ name: d.targetGroups[0]?.name, weight: 1 }] } }]);
    // clients from anywhere on the NodePort; the subnets are covered by 0.0.0.0/0, so no extra health rule
    expect(d.nodeRules).toEqual([{ groupId: 'sg-node', protocol: 'tcp', port: 31905, cidr: '0.0.0.0/0' }]);
    expect(parseOwnerDescription(d.ruleDescription)).toMatchObject({ kind: 'NetworkLoadBalancer', namespace: 'default', name: 'kubernetes-bootcamp-v1' });
  });
  it('opens only the VPC for an internal NLB, and health checks from the subnets when clients are restricted', () => {
    expect(desired(nlb({ scheme: 'internal' })).nodeRules.map((r) => r.cidr)).toEqual(['192.168.192.0/22']);
    const d = desired(nlb({ sourceRanges: ['203.0.113.0/24'] }));
    expect(d.nodeRules.map((r) => `${r.protocol}/${r.port}/${r.cidr}`)).toEqual(['tcp/31905/203.0.113.0/24', 'tcp/31905/192.168.192.0/24', 'tcp/31905/192.168.194.0/24']);
  });
  it('opens UDP and TCP for a TCP_UDP listener', () => {
    const d = desired(nlb({ listeners: [{ port: 53, protocol: 'TCP_UDP', targetPort: 30053 }] }));
    expect(d.nodeRules.map((r) => r.protocol).sort()).toEqual(['tcp', 'udp']);
  });
  it('touches no security group when none is cluster-tagged', () => {
    expect(desired(nlb(), { securityGroupIds: [] }).nodeRules).toEqual([]);
  });
  it('reads NodePorts from the Service when the listener has none', () => {
    const n = nlb({ listeners: [{ port: 8080, protocol: 'TCP' }] });
    const d = desired(n, { service: { spec: { ports: [{ port: 8080, nodePort: 31000 }] } } });
    expect(d.targetGroups[0]?.port).toBe(31000);
    const r = desiredState(inputs(n));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.field).toBe('spec.listeners[0].targetPort');
  });
  it('uses HTTP health check defaults and TLS listener settings', () => {
    const d = desired(nlb({ healthCheck: { protocol: 'HTTP', intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 3, unhealthyThreshold: 3 }, listeners: [{ port: 443, protocol: 'TLS', targetPort: 30443, certificateArns: ['arn:aws:acm:x:1:certificate/a'] }] }));
    expect(d.targetGroups[0]?.healthCheck).toMatchObject({ protocol: 'HTTP', path: '/', successCodes: '200-399', timeoutSeconds: 6 });
    expect(d.targetGroups[0]?.protocol).toBe('TCP');
    expect(d.listeners[0]).toMatchObject({ protocol: 'TLS', certificateArns: ['arn:aws:acm:x:1:certificate/a'] });
  });
});

describe('planChanges', () => {
  it('creates everything from nothing, in dependency order', () => {
    const d = desired();
    expect(ops(planChanges(d, EMPTY))).toEqual(['authorizeNodeRules', 'createLoadBalancer', 'createTargetGroup', 'createListener', 'registerTargets']);
  });
  it('makes no call in the steady state', () => {
    const d = desired();
    expect(planChanges(d, converged(d)).actions).toEqual([]);
  });
  it('registers a joining node and deregisters a leaving one, nothing else', () => {
    const d = desired();
    const a = converged(d);
    expect(planChanges(desired(nlb(), { instanceIds: ['i-a', 'i-b', 'i-c', 'i-d'] }), a).actions).toEqual([{ op: 'registerTargets', targetGroupName: d.targetGroups[0]?.name, ids: ['i-d'] }]);
    expect(planChanges(desired(nlb(), { instanceIds: ['i-a', 'i-b'] }), a).actions).toEqual([{ op: 'deregisterTargets', arn: a.targetGroups[0]?.arn, name: d.targetGroups[0]?.name, ids: ['i-c'] }]);
  });
  it('moves a port without touching the NLB: new target group and listener, then the old ones go', () => {
    const before = desired();
    const after = desired(nlb({ listeners: [{ port: 8081, protocol: 'TCP', targetPort: 31906 }] }));
    const p = planChanges(after, converged(before));
    expect(p.keep?.arn).toBe('arn:lb/1');
    expect(ops(p)).toEqual(['authorizeNodeRules', 'createTargetGroup', 'createListener', 'registerTargets', 'deleteListener', 'deleteTargetGroup', 'revokeNodeRules']);
  });
  it('replaces the NLB when the scheme changes: the new one first, the old one after', () => {
    const before = desired();
    const after = desired(nlb({ scheme: 'internal' }));
    const p = planChanges(after, converged(before));
    expect(p.keep).toBeUndefined();
    expect(ops(p)).toEqual(['authorizeNodeRules', 'createLoadBalancer', 'createTargetGroup', 'createListener', 'registerTargets', 'deleteLoadBalancer', 'deleteTargetGroup', 'revokeNodeRules']);
    expect(p.actions.find((a) => a.op === 'deleteLoadBalancer')).toMatchObject({ why: 'replaced' });
  });
  it('deletes the old NLB first when a fixed name is reused', () => {
    const before = desired(nlb({ loadBalancerName: 'bootcamp' }));
    const after = desired(nlb({ loadBalancerName: 'bootcamp', scheme: 'internal' }));
    const o = ops(planChanges(after, converged(before)));
    expect(o.indexOf('deleteLoadBalancer')).toBeGreaterThanOrEqual(0);
    expect(o.indexOf('deleteLoadBalancer')).toBeLessThan(o.indexOf('createLoadBalancer'));
  });
  it('keeps the oldest of duplicate NLBs and deletes the others', () => {
    const d = desired();
    const a = converged(d);
    const lb0 = a.loadBalancers[0]!;
    a.loadBalancers = [{ ...lb0, arn: 'arn:lb/2', createdTime: new Date(2000) }, { ...lb0, createdTime: new Date(1000) }];
    const p = planChanges(d, a);
    expect(p.keep?.arn).toBe('arn:lb/1');
    expect(p.actions).toEqual([{ op: 'deleteLoadBalancer', arn: 'arn:lb/2', name: lb0.name, why: 'duplicate' }]);
  });
  it('changes only the attributes and health check fields that differ', () => {
    const d = desired(nlb({ attributes: { 'load_balancing.cross_zone.enabled': 'true' }, healthCheck: { protocol: 'TCP', intervalSeconds: 30, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 } }));
    const a = converged(desired());
    a.loadBalancers[0]!.attributes = { 'load_balancing.cross_zone.enabled': 'false', 'deletion_protection.enabled': 'false' };
    a.targetGroups = a.targetGroups.map((tg) => ({ ...tg, name: d.targetGroups[0]!.name }));
    expect(ops(planChanges(d, a))).toEqual(['modifyLoadBalancerAttributes', 'modifyTargetGroup']);
  });
  it('ignores the SSL policy ELBv2 reports on plain TCP listeners', () => {
    const d = desired();
    const a = converged(d);
    a.listeners[0]!.sslPolicy = 'whatever';
    expect(planChanges(d, a).actions).toEqual([]);
  });
  it('updates a listener whose certificate changed', () => {
    const n = nlb({ listeners: [{ port: 443, protocol: 'TLS', targetPort: 30443, certificateArns: ['arn:aws:acm:x:1:certificate/b'] }] });
    const a = converged(desired(nlb({ listeners: [{ port: 443, protocol: 'TLS', targetPort: 30443, certificateArns: ['arn:aws:acm:x:1:certificate/a'] }] })));
    expect(ops(planChanges(desired(n), a))).toEqual(['modifyListener']);
  });
});

describe('planDeletion', () => {
  it('deletes the NLB, then target groups, then rules', () => {
    expect(planDeletion(converged(desired())).map((a) => a.op)).toEqual(['deleteLoadBalancer', 'deleteTargetGroup', 'revokeNodeRules']);
    expect(planDeletion(EMPTY)).toEqual([]);
  });
});

describe('cidrContains', () => {
  it('compares IPv4 blocks', () => {
    expect(cidrContains('0.0.0.0/0', '192.168.192.0/24')).toBe(true);
    expect(cidrContains('192.168.192.0/22', '192.168.194.0/24')).toBe(true);
    expect(cidrContains('192.168.192.0/24', '192.168.194.0/24')).toBe(false);
    expect(cidrContains('::/0', '192.168.192.0/24')).toBe(false);
  });
});
