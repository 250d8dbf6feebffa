// Ports a load balancer may reach, the source-range cap, CIDR merging, and the frontend/backend
// security-group model (with NLBs created before it kept on node-group rules).
import { describe, expect, it } from 'vitest';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { mergeCidrs } from '../../src/plan/cidr.ts';
import { backendRanges, missingBackendRules, staleBackendRules } from '../../src/plan/backend.ts';
import { checkPorts, DEFAULT_PORT_POLICY, parsePortRange, parsePortRanges, type PortPolicy } from '../../src/plan/ports.ts';
import { desiredState, planChanges, planDeletion, type ActualState, type DesiredInputs, type DesiredState } from '../../src/plan/index.ts';

const CLUSTER = 'int32bit-kubernetes';

function nlb(patch: Partial<NetworkLoadBalancer['spec']> = {}): NetworkLoadBalancer {
  return {
    apiVersion: 'elb.kube-iaas.dev/v1alpha1',
    kind: 'NetworkLoadBalancer',
    metadata: { name: 'web', namespace: 'tenant-a', uid: 'uid-1', generation: 1 },
    spec: { scheme: 'internet-facing', listeners: [{ port: 80, protocol: 'TCP', targetPort: 31000 }], targets: { instanceIds: ['i-a'] }, ...patch },
  };
}

function inputs(n: NetworkLoadBalancer, patch: Partial<DesiredInputs> = {}): DesiredInputs {
  return {
    cluster: CLUSTER,
    nlb: n,
    instanceIds: ['i-a', 'i-b'],
    vpcId: 'vpc-1',
    vpcCidr: '192.168.192.0/22',
    subnets: [
      { id: 'subnet-a', cidrBlock: '192.168.192.0/24' },
      { id: 'subnet-b', cidrBlock: '192.168.194.0/24' },
    ],
    securityGroupIds: ['sg-node'],
    backendGroupId: 'sg-backend',
    ...patch,
  };
}

function desired(n = nlb(), patch: Partial<DesiredInputs> = {}): DesiredState {
  const r = desiredState(inputs(n, patch));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.desired;
}

const EMPTY: ActualState = { loadBalancers: [], listeners: [], targetGroups: [], rules: [], nodeRules: [], securityGroups: [] };
const ops = (p: { actions: { op: string }[] }) => p.actions.map((a) => a.op);

/** What AWS holds after the plan for `d` ran; `groups: false` for an NLB made before security groups. */
function converged(d: DesiredState, opts: { groups?: boolean } = {}): ActualState {
  const groups = opts.groups ?? true;
  return {
    loadBalancers: [
      { arn: 'arn:lb/1', name: d.loadBalancer.name, type: 'network', scheme: d.loadBalancer.scheme, ipAddressType: 'ipv4', subnetIds: [...d.loadBalancer.subnetIds], securityGroupIds: groups ? ['sg-backend', 'sg-front'] : [], tags: d.loadBalancer.tags, state: 'active' },
    ],
    targetGroups: d.targetGroups.map((tg) => ({ arn: `arn:tg/${tg.name}`, name: tg.name, protocol: tg.protocol, port: tg.port, vpcId: tg.vpcId, healthCheck: { ...tg.healthCheck }, tags: tg.tags, targets: [...d.targets], healthyTargets: 1 })),
    listeners: d.listeners.map((l) => ({ arn: `arn:l/${l.port}`, loadBalancerArn: 'arn:lb/1', port: l.port, protocol: l.protocol, defaultAction: l.defaultAction, forwardArns: [], certificateArns: [] })),
    rules: [],
    nodeRules: groups ? [] : d.nodeRules.map((r, i) => ({ ...r, id: `sgr-n${i}`, description: d.ruleDescription })),
    securityGroups: groups && d.securityGroup ? [{ id: 'sg-front', name: d.securityGroup.name, tags: d.securityGroup.tags, ingress: d.securityGroup.ingress.map((r, i) => ({ ...r, id: `sgr-f${i}` })) }] : [],
  };
}

describe('mergeCidrs', () => {
  it('drops duplicates and contained blocks and joins sibling halves, repeatedly', () => {
    expect(mergeCidrs(['10.0.0.0/25', '10.0.0.128/25'])).toEqual(['10.0.0.0/24']);
    expect(mergeCidrs(['10.0.0.0/24', '10.0.0.7/32', '10.0.0.0/24'])).toEqual(['10.0.0.0/24']);
    // four /26 → one /24, in any order
    expect(mergeCidrs(['10.0.0.192/26', '10.0.0.0/26', '10.0.0.128/26', '10.0.0.64/26'])).toEqual(['10.0.0.0/24']);
    // a cascade: /25 + /26 + /26 → /24
    expect(mergeCidrs(['10.0.0.0/25', '10.0.0.128/26', '10.0.0.192/26'])).toEqual(['10.0.0.0/24']);
    // host bits are cleared; blocks that are not siblings stay apart
    expect(mergeCidrs(['10.0.1.5/24', '10.0.2.0/24'])).toEqual(['10.0.1.0/24', '10.0.2.0/24']);
    expect(mergeCidrs(['0.0.0.0/0', '203.0.113.0/24'])).toEqual(['0.0.0.0/0']);
  });

  it('60 consecutive /32s become a handful of blocks covering exactly them', () => {
    const hosts = Array.from({ length: 60 }, (_, i) => `198.51.100.${i}/32`);
    const merged = mergeCidrs(hosts);
    // 0-31, 32-47, 48-55, 56-59
    expect(merged).toEqual(['198.51.100.0/27', '198.51.100.32/28', '198.51.100.48/29', '198.51.100.56/30']);
  });

  it('keeps IPv6 blocks (de-duplicated, lower case)', () => {
    expect(mergeCidrs(['2001:DB8::/32', '2001:db8::/32', '10.0.0.0/8'])).toEqual(['10.0.0.0/8', '2001:db8::/32']);
  });
});

describe('port policy', () => {
  it('parses ranges and lists', () => {
    expect(parsePortRange('30000-32767')).toEqual({ from: 30000, to: 32767 });
    expect(parsePortRange('10250')).toEqual({ from: 10250, to: 10250 });
    expect(parsePortRange('0')).toBeUndefined();
    expect(parsePortRange('32767-30000')).toBeUndefined();
    expect(parsePortRange('70000')).toBeUndefined();
    expect(parsePortRanges(['8443', '9000-9100'])).toEqual({ ok: true, ranges: [{ from: 8443, to: 8443 }, { from: 9000, to: 9100 }] });
    expect(parsePortRanges(['x'])).toEqual({ ok: false, item: 'x' });
  });

  it('refuses target and health-check ports outside the NodePort range, naming each field', () => {
    const n = nlb({
      listeners: [
        { port: 80, protocol: 'TCP', targetPort: 31000 },
        { port: 443, protocol: 'TCP', targetPort: 10250 },
        { port: 22, protocol: 'TCP', targetPort: 22, healthCheck: { port: 22 } },
      ],
      healthCheck: { port: 10255 },
    });
    const errors = checkPorts(n, DEFAULT_PORT_POLICY);
    expect(errors.map((e) => e.field)).toEqual(['spec.listeners[1].targetPort', 'spec.listeners[2].targetPort', 'spec.listeners[2].healthCheck.port', 'spec.healthCheck.port']);
    expect(errors[0]?.message).toContain('30000-32767');
    const r = desiredState(inputs(n));
    expect(r.ok).toBe(false);
  });

  it('a cluster-wide --allowed-target-ports lets chosen ports through', () => {
    const policy: PortPolicy = { ...DEFAULT_PORT_POLICY, allowedTargetPorts: [{ from: 10250, to: 10250 }] };
    expect(checkPorts(nlb({ listeners: [{ port: 443, protocol: 'TCP', targetPort: 10250 }] }), policy)).toEqual([]);
    expect(checkPorts(nlb({ listeners: [{ port: 22, protocol: 'TCP', targetPort: 22 }] }), policy)).toHaveLength(1);
  });

  it('a NodePort read from the Service outside --node-port-range is refused too', () => {
    const n = nlb({ serviceRef: { name: 'web' }, listeners: [{ port: 80, protocol: 'TCP' }] });
    n.spec.targets = undefined;
    const service = { spec: { ports: [{ port: 80, nodePort: 31000 }] } };
    const policy: PortPolicy = { ...DEFAULT_PORT_POLICY, nodePortRange: { from: 32000, to: 32767 } };
    const r = desiredState(inputs(n, { service, policy }));
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['spec.listeners[0].targetPort']);
  });

  it('caps source ranges after merging', () => {
    // every other /24: nothing to merge
    const sixty = Array.from({ length: 60 }, (_, i) => `203.0.${2 * i}.0/24`);
    const errors = checkPorts(nlb({ sourceRanges: sixty }), DEFAULT_PORT_POLICY);
    expect(errors.map((e) => e.field)).toEqual(['spec.sourceRanges']);
    expect(errors[0]?.message).toMatch(/at most 20/);
    // 64 adjacent /24s merge into one /18: allowed
    const adjacent = Array.from({ length: 64 }, (_, i) => `10.1.${i}.0/24`);
    expect(checkPorts(nlb({ sourceRanges: adjacent }), DEFAULT_PORT_POLICY)).toEqual([]);
    expect(desired(nlb({ sourceRanges: adjacent })).securityGroup?.ingress.map((r) => r.cidr)).toEqual(['10.1.0.0/18']);
  });
});

describe('frontend and backend security groups', () => {
  it('a new NLB: its own group first, client CIDRs on the listener ports, created with both groups; nothing on the node group', () => {
    const d = desired(nlb({ sourceRanges: ['203.0.113.0/25', '203.0.113.128/25', '198.51.100.7/32'], listeners: [{ port: 80, protocol: 'TCP', targetPort: 31000 }, { port: 81, protocol: 'TCP_UDP', targetPort: 31001 }] }));
    expect(d.securityGroup?.ingress).toEqual([
      { protocol: 'tcp', fromPort: 80, toPort: 81, cidr: '198.51.100.7/32' },
      { protocol: 'tcp', fromPort: 80, toPort: 81, cidr: '203.0.113.0/24' },
      { protocol: 'udp', fromPort: 81, toPort: 81, cidr: '198.51.100.7/32' },
      { protocol: 'udp', fromPort: 81, toPort: 81, cidr: '203.0.113.0/24' },
    ]);
    expect(d.securityGroup?.tags['kube-iaas.dev/owner-uid']).toBe('uid-1');
    const p = planChanges(d, EMPTY);
    expect(ops(p).slice(0, 3)).toEqual(['createSecurityGroup', 'authorizeGroupIngress', 'createLoadBalancer']);
    expect(ops(p)).not.toContain('authorizeNodeRules');
    const create = p.actions.find((a) => a.op === 'createLoadBalancer');
    expect(create?.op === 'createLoadBalancer' && create.lb.securityGroups).toEqual(['<managed>', 'sg-backend']);
  });

  it('steady state: no action', () => {
    const d = desired();
    expect(planChanges(d, converged(d)).actions).toEqual([]);
  });

  it('changed source ranges: new rules added before the stale ones are revoked', () => {
    const d0 = desired(nlb({ sourceRanges: ['203.0.113.0/24'] }));
    const d1 = desired(nlb({ sourceRanges: ['198.51.100.0/24'] }));
    const p = planChanges(d1, converged(d0));
    expect(ops(p)).toEqual(['authorizeGroupIngress', 'revokeGroupIngress']);
  });

  it('an NLB created without security groups is kept (AWS cannot add them) and served by merged node-group rules', () => {
    const legacyDesired = desired(nlb({ sourceRanges: ['203.0.113.0/24'] }), { backendGroupId: undefined });
    const actual = converged(legacyDesired, { groups: false });
    // The old layout had one rule per CIDR given; two halves now merge into one.
    actual.nodeRules = [
      { id: 'sgr-1', groupId: 'sg-node', protocol: 'tcp', port: 31000, cidr: '203.0.113.0/25', description: legacyDesired.ruleDescription },
      { id: 'sgr-2', groupId: 'sg-node', protocol: 'tcp', port: 31000, cidr: '203.0.113.128/25', description: legacyDesired.ruleDescription },
    ];
    const d = desired(nlb({ sourceRanges: ['203.0.113.0/25', '203.0.113.128/25'] }));
    const p = planChanges(d, actual);
    expect(p.keep?.arn).toBe('arn:lb/1');
    expect(ops(p)).not.toContain('setSecurityGroups');
    expect(ops(p)).not.toContain('createSecurityGroup');
    const add = p.actions.findIndex((a) => a.op === 'authorizeNodeRules');
    const revoke = p.actions.findIndex((a) => a.op === 'revokeNodeRules');
    expect(add).toBeGreaterThanOrEqual(0);
    expect(revoke).toBeGreaterThan(add);
    const added = p.actions[add];
    expect(added?.op === 'authorizeNodeRules' && added.rules.filter((r) => r.cidr?.startsWith('203.')).map((r) => r.cidr)).toEqual(['203.0.113.0/24']);
    const revoked = p.actions[revoke];
    expect(revoked?.op === 'revokeNodeRules' && revoked.rules.map((r) => r.id)).toEqual(['sgr-1', 'sgr-2']);
  });

  it('replacing an NLB made without groups (scheme change): the new one gets both groups, the old node-group rules go last', () => {
    const legacyDesired = desired(nlb(), { backendGroupId: undefined });
    const actual = converged(legacyDesired, { groups: false });
    const d = desired(nlb({ scheme: 'internal' }));
    const p = planChanges(d, actual);
    const o = ops(p);
    expect(o.indexOf('createSecurityGroup')).toBeLessThan(o.indexOf('createLoadBalancer'));
    expect(o.indexOf('createListener')).toBeLessThan(o.indexOf('deleteLoadBalancer'));
    expect(o.indexOf('revokeNodeRules')).toBeGreaterThan(o.indexOf('deleteLoadBalancer'));
  });

  it('deletion removes the frontend group after the NLB', () => {
    const d = desired();
    expect(ops({ actions: planDeletion(converged(d)) })).toEqual(['deleteLoadBalancer', 'deleteTargetGroup', 'deleteSecurityGroup']);
  });

  it('the node group gets one rule per protocol and allowed range from the backend group, once', () => {
    const all = new Set<'tcp' | 'udp'>(['tcp']);
    expect(missingBackendRules(['sg-node'], 'sg-backend', all, DEFAULT_PORT_POLICY, [])).toEqual([{ groupId: 'sg-node', protocol: 'tcp', fromPort: 30000, toPort: 32767 }]);
    const present = [{ groupId: 'sg-node', protocol: 'tcp', fromPort: 30000, toPort: 32767, referencedGroupId: 'sg-backend' }];
    expect(missingBackendRules(['sg-node'], 'sg-backend', all, DEFAULT_PORT_POLICY, present)).toEqual([]);
    // A rule for another group, or a narrower one, does not count.
    expect(missingBackendRules(['sg-node'], 'sg-backend', all, DEFAULT_PORT_POLICY, [{ ...present[0]!, referencedGroupId: 'sg-other' }])).toHaveLength(1);
    expect(missingBackendRules(['sg-node'], 'sg-backend', all, DEFAULT_PORT_POLICY, [{ ...present[0]!, toPort: 31000 }])).toHaveLength(1);
    // Allowed extra ports next to the range join it.
    expect(backendRanges({ ...DEFAULT_PORT_POLICY, allowedTargetPorts: [{ from: 32768, to: 32768 }, { from: 10250, to: 10250 }] })).toEqual([
      { from: 10250, to: 10250 },
      { from: 30000, to: 32768 },
    ]);
  });

  it('backend rules over ports no longer allowed are stale; the NodePort range and allowed ports are not', () => {
    const policy: PortPolicy = { ...DEFAULT_PORT_POLICY, allowedTargetPorts: [{ from: 8443, to: 8443 }] };
    const existing = [
      { id: 'r1', groupId: 'sg-node', protocol: 'tcp', fromPort: 30000, toPort: 32767, referencedGroupId: 'sg-backend' },
      { id: 'r2', groupId: 'sg-node', protocol: 'tcp', fromPort: 8443, toPort: 8443, referencedGroupId: 'sg-backend' },
      { id: 'r3', groupId: 'sg-node', protocol: 'tcp', fromPort: 10250, toPort: 10250, referencedGroupId: 'sg-backend' },
      { id: 'r4', groupId: 'sg-node', protocol: 'tcp', fromPort: 10250, toPort: 10250, referencedGroupId: 'sg-someone-else' },
      { id: 'r5', groupId: 'sg-node', protocol: '-1', referencedGroupId: 'sg-backend' },
    ];
    expect(staleBackendRules(['sg-node'], 'sg-backend', policy, existing).map((r) => r.id)).toEqual(['r3', 'r5']);
  });
});
