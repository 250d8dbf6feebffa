import { describe, expect, it } from 'vitest';
import { observedStatus } from '../../src/plan/status.ts';
import type { ActualState, DesiredState } from '../../src/plan/types.ts';

describe('observedStatus', () => {
  const desired: DesiredState = {
    loadBalancer: { name: 'lb', type: 'network', scheme: 'internet-facing', ipAddressType: 'ipv4', subnetIds: ['s-a', 's-b'], securityGroups: [], tags: {}, attributes: {} },
    targetGroups: [{ name: 'tg', listenerPort: 8080, protocol: 'TCP', port: 31905, vpcId: 'v', healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 }, attributes: {}, tags: {} }],
    listeners: [{ port: 8080, protocol: 'TCP', defaultAction: { type: 'forward', targetGroups: [{ name: 'tg', weight: 1 }] } }],
    targets: ['i-a', 'i-b', 'i-c'],
    rules: [],
    nodeRules: [],
    ruleDescription: 'd',
  };
  const actual: ActualState = { loadBalancers: [], listeners: [], targetGroups: [], rules: [], nodeRules: [], securityGroups: [] };
  it('reports the created NLB, listener and target group ARNs and target counts', () => {
    const s = observedStatus(desired, actual, undefined, {
      loadBalancer: { arn: 'arn:lb', name: 'lb', scheme: 'internet-facing', dnsName: 'lb-1.elb', state: 'provisioning', subnetIds: ['s-b', 's-a'], securityGroupIds: [] },
      targetGroupArns: new Map([['tg', 'arn:tg']]),
      listenerArns: new Map([[8080, 'arn:l']]),
      nodeRules: [{ id: 'sgr-1', groupId: 'sg-1', protocol: 'tcp', port: 31905, cidr: '0.0.0.0/0', description: 'd' }],
      securityGroupRules: [],
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
