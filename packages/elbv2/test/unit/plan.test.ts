import { describe, expect, it } from 'vitest';
import { OWN_GROUP, describeAction, emptyActual, planChanges, planDeletion, type Action } from '../../src/index.ts';
import { converged, model } from './fixtures.ts';

const ops = (actions: readonly Action[]) => actions.map((a) => a.op);

describe('planChanges', () => {
  it('creates everything from nothing, in dependency order', () => {
    const p = planChanges(model(), emptyActual());
    expect(ops(p.actions)).toEqual(['createSecurityGroup', 'authorizeGroupIngress', 'authorizeNodeRules', 'createLoadBalancer', 'createTargetGroup', 'createListener', 'createRule', 'registerTargets']);
    expect(p.keep).toBeUndefined();
    const create = p.actions.find((a) => a.op === 'createLoadBalancer');
    expect(create?.op === 'createLoadBalancer' && create.lb.securityGroups).toEqual([OWN_GROUP]);
    const rules = p.actions.find((a) => a.op === 'authorizeNodeRules');
    expect(rules?.op === 'authorizeNodeRules' && rules.rules).toEqual([{ groupId: 'sg-nodes', protocol: 'tcp', port: 30080, sourceGroupId: OWN_GROUP }]);
  });

  it('asks nothing of a converged state', () => {
    const m = model();
    const p = planChanges(m, converged(m));
    expect(p.actions).toEqual([]);
    expect(p.keep?.name).toBe(m.loadBalancer.name);
    expect(p.group?.id).toBe('sg-own');
  });

  it('registers and deregisters only the difference', () => {
    const m = model();
    const a = converged(m);
    const p = planChanges(model({ targets: ['i-0b', 'i-0c'] }), a);
    expect(p.actions).toEqual([
      { op: 'registerTargets', targetGroupName: m.targetGroups[0]?.name, ids: ['i-0c'] },
      { op: 'deregisterTargets', arn: a.targetGroups[0]?.arn, name: m.targetGroups[0]?.name, ids: ['i-0a'] },
    ]);
  });

  it('replaces on a scheme change: new load balancer first, the old one deleted after the listeners moved', () => {
    const m = model();
    const a = converged(m);
    const next = model({ loadBalancer: { ...m.loadBalancer, scheme: 'internal', name: 'k8s-default-web-internal1' } });
    const p = planChanges(next, a);
    expect(ops(p.actions)).toEqual(['createLoadBalancer', 'createListener', 'createRule', 'deleteLoadBalancer']);
    const del = p.actions.at(-1);
    expect(del?.op === 'deleteLoadBalancer' && del.why).toBe('replaced');
  });

  it('deletes a replaced load balancer first when the new one reuses its name', () => {
    const m = model();
    const a = converged(m);
    const p = planChanges(model({ loadBalancer: { ...m.loadBalancer, scheme: 'internal' } }), a);
    expect(p.actions[0]).toMatchObject({ op: 'deleteLoadBalancer', why: 'name-collision' });
    expect(p.actions[1]?.op).toBe('createLoadBalancer');
  });

  it('updates a changed listener, rule, health check and attributes in place', () => {
    const m = model();
    const a = converged(m);
    const tg = m.targetGroups[0];
    if (!tg) throw new Error('fixture');
    const next = model({
      loadBalancer: { ...m.loadBalancer, attributes: { 'idle_timeout.timeout_seconds': '120' } },
      targetGroups: [{ ...tg, healthCheck: { ...tg.healthCheck, path: '/healthz' } }],
      listeners: [{ port: 80, protocol: 'HTTP', defaultAction: { type: 'fixed-response', statusCode: '503' } }],
      rules: [{ listenerPort: 80, priority: 1, hosts: ['shop.example.com'], paths: ['/api/*'], action: { type: 'forward', targetGroups: [{ name: tg.name, weight: 1 }] } }],
    });
    expect(ops(planChanges(next, a).actions)).toEqual(['modifyLoadBalancerAttributes', 'modifyTargetGroup', 'modifyListener', 'modifyRule']);
  });

  it('removes what the model no longer has, rules before their listeners, groups last', () => {
    const m = model();
    const a = converged(m);
    const p = planChanges(model({ securityGroup: undefined, loadBalancer: { ...m.loadBalancer, securityGroups: ['sg-user'] }, nodeRules: [], rules: [], targetGroups: [] }), a);
    expect(ops(p.actions)).toEqual(['setSecurityGroups', 'deleteRule', 'deleteTargetGroup', 'revokeNodeRules', 'deleteSecurityGroup']);
  });

  it('keeps a group the kept load balancer goes on using', () => {
    const m = model({ securityGroup: undefined, nodeRules: [] });
    const a = converged(model());
    const p = planChanges({ ...m, loadBalancer: { ...m.loadBalancer, securityGroups: ['sg-own'] } }, a);
    expect(ops(p.actions)).toEqual(['revokeNodeRules']);
  });

  it('opens a new client CIDR on the own group and closes the old one after the listeners', () => {
    const m = model();
    const a = converged(m);
    const sg = m.securityGroup;
    if (!sg) throw new Error('fixture');
    const p = planChanges(model({ securityGroup: { ...sg, ingress: [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '203.0.113.0/24' }] } }), a);
    expect(ops(p.actions)).toEqual(['authorizeGroupIngress', 'revokeGroupIngress']);
  });
});

describe('planDeletion', () => {
  it('removes load balancers, target groups, node rules, then groups', () => {
    expect(ops(planDeletion(converged(model())))).toEqual(['deleteLoadBalancer', 'deleteTargetGroup', 'revokeNodeRules', 'deleteSecurityGroup']);
    expect(planDeletion(emptyActual())).toEqual([]);
  });
});

describe('describeAction', () => {
  it('names the load balancer kind', () => {
    const [create] = planChanges(model(), emptyActual()).actions.filter((a) => a.op === 'createLoadBalancer');
    if (!create) throw new Error('no create');
    expect(describeAction(create, 'ALB')).toBe('create internet-facing ALB k8s-default-web-0123456789 in subnet-a, subnet-b');
  });
});
