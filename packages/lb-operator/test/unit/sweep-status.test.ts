import { describe, expect, it } from 'vitest';
import { suspectOwners } from '../../src/controllers/sweep.ts';
import type { InventoryEntry } from '../../src/aws/inventory.ts';
import { observedStatus } from '../../src/plan/status.ts';
import type { ActualState, DesiredState } from '../../src/plan/types.ts';

const entry = (name: string, uid: string | undefined, kind: InventoryEntry['kind'] = 'targetgroup'): InventoryEntry => ({
  kind,
  arn: `arn:${kind}/${name}/${uid ?? ''}`,
  name: `k8s-${name}`,
  owner: { cluster: 'c', kind: 'NetworkLoadBalancer', namespace: 'default', name, ...(uid ? { uid } : {}) },
});

describe('suspectOwners', () => {
  it('suspects owners whose CR is missing or has another UID, once each', () => {
    const live = new Map([['default/alive', 'u1'], ['default/recreated', 'u-new']]);
    const got = suspectOwners(
      [entry('alive', 'u1'), entry('alive', 'u1', 'loadbalancer'), entry('gone', 'u2'), entry('gone', 'u2', 'loadbalancer'), entry('recreated', 'u-old'), entry('no-uid', undefined)],
      (ns, name) => live.get(`${ns}/${name}`),
    );
    expect(got).toEqual([
      { namespace: 'default', name: 'gone', uid: 'u2' },
      { namespace: 'default', name: 'recreated', uid: 'u-old' },
      { namespace: 'default', name: 'no-uid', uid: undefined },
    ]);
  });
});

describe('observedStatus', () => {
  const desired: DesiredState = {
    loadBalancer: { name: 'lb', scheme: 'internet-facing', ipAddressType: 'ipv4', subnetIds: ['s-a', 's-b'], tags: {}, attributes: {} },
    targetGroups: [{ name: 'tg', listenerPort: 8080, protocol: 'TCP', port: 31905, vpcId: 'v', healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 }, attributes: {}, tags: {} }],
    listeners: [{ port: 8080, protocol: 'TCP', targetGroupName: 'tg' }],
    targets: ['i-a', 'i-b', 'i-c'],
    rules: [],
    ruleDescription: 'd',
  };
  const actual: ActualState = { loadBalancers: [], listeners: [], targetGroups: [], rules: [], frontendGroups: [] };
  it('reports the created NLB, listener and target group ARNs and target counts', () => {
    const s = observedStatus(desired, actual, undefined, {
      loadBalancer: { arn: 'arn:lb', name: 'lb', scheme: 'internet-facing', dnsName: 'lb-1.elb', state: 'provisioning', subnetIds: ['s-b', 's-a'] },
      targetGroupArns: new Map([['tg', 'arn:tg']]),
      listenerArns: new Map([[8080, 'arn:l']]),
      rules: [{ id: 'sgr-1', groupId: 'sg-1', protocol: 'tcp', port: 31905, cidr: '0.0.0.0/0', description: 'd' }],
    });
    expect(s).toEqual({
      loadBalancerArn: 'arn:lb',
      loadBalancerName: 'lb',
      scheme: 'internet-facing',
      subnetIds: ['s-a', 's-b'],
      dnsName: 'lb-1.elb',
      state: 'provisioning',
      listeners: [{ port: 8080, protocol: 'TCP', listenerArn: 'arn:l', targetGroupArn: 'arn:tg' }],
      targetGroups: [{ listenerPort: 8080, targetGroupName: 'tg', protocol: 'TCP', targetPort: 31905, targets: 3, healthyTargets: 0, targetGroupArn: 'arn:tg' }],
      securityGroupRules: [{ securityGroupId: 'sg-1', ruleId: 'sgr-1', description: 'd' }],
    });
  });
});
