import { describe, expect, it } from 'vitest';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { taggedOwner } from '@kube-iaas/core/tags';
import { MANAGED_SG, desiredState, planChanges, planDeletion, describeAction, type Action, type ActualState, type DesiredInputs, type DesiredState } from '../../src/plan/index.ts';
import { SERVICES, ingress, path, translated } from './fixtures.ts';

const CLUSTER = 'int32bit-kubernetes';
const NODES = ['i-0a', 'i-0b', 'i-0c'];

function withUid(alb: ApplicationLoadBalancer): ApplicationLoadBalancer {
  return { ...alb, metadata: { ...alb.metadata, uid: 'alb-uid-1' } };
}

function inputs(alb: ApplicationLoadBalancer, patch: Partial<DesiredInputs> = {}): DesiredInputs {
  return {
    cluster: CLUSTER,
    alb: withUid(alb),
    instanceIds: NODES,
    vpcId: 'vpc-1',
    vpcCidr: '192.168.192.0/22',
    subnetIds: ['subnet-pub-a', 'subnet-pub-b'],
    nodeSecurityGroupIds: ['sg-cluster'],
    ...patch,
  };
}

function desired(alb: ApplicationLoadBalancer, patch: Partial<DesiredInputs> = {}): DesiredState {
  const r = desiredState(inputs(alb, patch));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.desired;
}

const EMPTY: ActualState = { loadBalancers: [], securityGroups: [], nodeRules: [], targetGroups: [], listeners: [], rules: [] };

/** What AWS would look like after the actions (a model of the calls, enough to check convergence). */
function apply(d: DesiredState, actual: ActualState, actions: readonly Action[]): ActualState {
  const s: ActualState = structuredClone(actual);
  let n = 0;
  const id = (p: string) => `${p}-${++n}`;
  const lbArn = () => s.loadBalancers[0]?.arn ?? '';
  const sgId = () => s.securityGroups[0]?.id ?? MANAGED_SG;
  for (const a of actions) {
    switch (a.op) {
      case 'createSecurityGroup':
        s.securityGroups.push({ id: id('sg'), name: a.group.name, tags: a.group.tags, ingress: [] });
        break;
      case 'authorizeGroupIngress':
        s.securityGroups[0]?.ingress.push(...a.rules.map((r) => ({ ...r, id: id('sgr') })));
        break;
      case 'authorizeNodeRules':
        s.nodeRules.push(...a.rules.map((r) => ({ ...r, sourceGroupId: r.sourceGroupId === MANAGED_SG ? sgId() : r.sourceGroupId, id: id('sgr'), description: a.description })));
        break;
      case 'createLoadBalancer':
        s.loadBalancers.push({ arn: id('arn:lb'), name: a.lb.name, type: 'application', scheme: a.lb.scheme, subnetIds: a.lb.subnetIds, securityGroupIds: a.lb.securityGroups.map((g) => (g === MANAGED_SG ? sgId() : g)), tags: a.lb.tags, attributes: {} });
        break;
      case 'modifyLoadBalancerAttributes':
        Object.assign(s.loadBalancers[0]?.attributes ?? {}, a.attributes);
        break;
      case 'createTargetGroup':
        s.targetGroups.push({ arn: id('arn:tg'), name: a.tg.name, protocol: a.tg.protocol, port: a.tg.port, healthCheck: a.tg.healthCheck, tags: a.tg.tags, attributes: {}, targets: [], healthyTargets: 0 });
        break;
      case 'modifyTargetGroupAttributes':
        Object.assign(s.targetGroups.find((t) => t.name === a.targetGroupName)?.attributes ?? {}, a.attributes);
        break;
      case 'createListener':
        s.listeners.push({ arn: id('arn:listener'), loadBalancerArn: lbArn(), port: a.listener.port, protocol: a.listener.protocol, certificateArns: a.listener.certificateArns ?? [], defaultAction: a.listener.defaultAction, forwardArns: [], ...(a.listener.sslPolicy ? { sslPolicy: a.listener.sslPolicy } : {}) });
        break;
      case 'createRule': {
        const l = s.listeners.find((x) => x.port === a.rule.listenerPort);
        s.rules.push({ arn: id('arn:rule'), listenerArn: l?.arn ?? '', forwardArns: [], ...structuredClone(a.rule) });
        break;
      }
      case 'modifyRule': {
        const r = s.rules.find((x) => x.arn === a.arn);
        if (r) Object.assign(r, structuredClone(a.rule));
        break;
      }
      case 'registerTargets':
        s.targetGroups.find((t) => t.name === a.targetGroupName)?.targets.push(...a.ids);
        break;
      case 'deregisterTargets': {
        const t = s.targetGroups.find((x) => x.arn === a.arn);
        if (t) t.targets = t.targets.filter((i) => !a.ids.includes(i));
        break;
      }
      case 'deleteRule':
        s.rules = s.rules.filter((r) => r.arn !== a.arn);
        break;
      case 'deleteListener':
        s.listeners = s.listeners.filter((l) => l.arn !== a.arn);
        s.rules = s.rules.filter((r) => r.listenerArn !== a.arn);
        break;
      case 'revokeGroupIngress':
        for (const g of s.securityGroups) if (g.id === a.groupId) g.ingress = g.ingress.filter((r) => !a.rules.some((x) => x.id === r.id));
        break;
      case 'deleteLoadBalancer':
        s.loadBalancers = s.loadBalancers.filter((l) => l.arn !== a.arn);
        break;
      case 'deleteTargetGroup':
        s.targetGroups = s.targetGroups.filter((t) => t.arn !== a.arn);
        break;
      case 'revokeNodeRules':
        s.nodeRules = s.nodeRules.filter((r) => !a.rules.some((x) => x.id === r.id));
        break;
      case 'deleteSecurityGroup':
        s.securityGroups = s.securityGroups.filter((g) => g.id !== a.groupId);
        break;
      default:
        throw new Error(`model does not handle ${a.op}`);
    }
  }
  void d;
  return s;
}

const ops = (actions: readonly Action[]) => actions.map((a) => a.op);
const article = () => translated([ingress('bootcamp')]);

describe('desiredState for the article Ingress', () => {
  const d = desired(article());
  it('is an internet-facing ALB in two subnets, with our security group', () => {
    expect(d.loadBalancer).toMatchObject({ scheme: 'internet-facing', subnetIds: ['subnet-pub-a', 'subnet-pub-b'], securityGroups: [MANAGED_SG] });
    expect(d.loadBalancer.name.length).toBeLessThanOrEqual(32);
  });
  it('opens the listener port to 0.0.0.0/0 (internet-facing default)', () => {
    expect(d.securityGroup?.ingress).toEqual([{ protocol: 'tcp', fromPort: 18080, toPort: 18080, cidr: '0.0.0.0/0' }]);
  });
  it('opens the VPC CIDR for an internal ALB, or inbound-cidrs when given', () => {
    const internal = translated([ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 18080}]' } })]);
    expect(desired(internal).securityGroup?.ingress).toEqual([{ protocol: 'tcp', fromPort: 18080, toPort: 18080, cidr: '192.168.192.0/22' }]);
    const narrowed = translated([ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/inbound-cidrs': '10.0.0.0/8' } })]);
    expect(desired(narrowed).securityGroup?.ingress).toEqual([{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '10.0.0.0/8' }]);
  });
  it('lets the ALB security group reach both NodePorts on the cluster-tagged node group only', () => {
    expect(d.nodeRules).toEqual([
      { groupId: 'sg-cluster', protocol: 'tcp', port: 31001, sourceGroupId: MANAGED_SG },
      { groupId: 'sg-cluster', protocol: 'tcp', port: 31002, sourceGroupId: MANAGED_SG },
    ]);
  });
  it('has one listener, two rules with host + path conditions and two target groups on the NodePorts', () => {
    expect(d.listeners).toEqual([{ port: 18080, protocol: 'HTTP', defaultAction: { type: 'fixed-response', statusCode: '404', contentType: 'text/plain', messageBody: 'Not Found' } }]);
    expect(d.rules.map((r) => [r.priority, r.hosts, r.paths])).toEqual([
      [10, ['test.int32bit.me'], ['/v1', '/v1/*']],
      [20, ['test.int32bit.me'], ['/v2', '/v2/*']],
    ]);
    expect(d.targetGroups.map((t) => [t.key, t.port, t.protocol, t.name.length <= 32])).toEqual([
      ['kubernetes-bootcamp-v1-8080', 31001, 'HTTP', true],
      ['kubernetes-bootcamp-v2-8080', 31002, 'HTTP', true],
    ]);
    expect(d.rules[0]?.action).toEqual({ type: 'forward', targetGroups: [{ name: d.targetGroups[0]?.name, weight: 1 }] });
    expect(d.targets).toEqual(NODES);
  });
  it('tags everything with the owner', () => {
    for (const tags of [d.loadBalancer.tags, d.securityGroup?.tags ?? {}, ...d.targetGroups.map((t) => t.tags)]) {
      expect(taggedOwner(tags)).toMatchObject({ kind: 'ApplicationLoadBalancer', name: 'bootcamp', namespace: 'default', uid: 'alb-uid-1' });
    }
  });
  it('redirects HTTP listeners with ssl-redirect', () => {
    const alb = translated([
      ingress('a', {
        annotations: {
          'kubernetes.io/ingress.class': 'alb',
          'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]',
          'alb.ingress.kubernetes.io/certificate-arn': 'arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc',
          'alb.ingress.kubernetes.io/ssl-redirect': '443',
        },
      }),
    ]);
    const dd = desired(alb);
    expect(dd.listeners[0]).toMatchObject({ port: 80, defaultAction: { type: 'redirect', protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } });
    expect(dd.listeners[1]).toMatchObject({ port: 443, protocol: 'HTTPS', certificateArns: ['arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc'] });
  });
  it('plans a hand-written ApplicationLoadBalancer, taking the NodePort from the Service', () => {
    const alb: ApplicationLoadBalancer = {
      apiVersion: 'elb.kube-iaas.dev/v1alpha1',
      kind: 'ApplicationLoadBalancer',
      metadata: { name: 'by-hand', namespace: 'default' },
      spec: {
        scheme: 'internal',
        listeners: [{ port: 80, protocol: 'HTTP' }],
        targetGroups: [{ name: 'web', serviceRef: { name: 'kubernetes-bootcamp-v2', port: 8080 } }],
        rules: [{ listenerPort: 80, priority: 5, paths: ['/*'], action: { type: 'forward', forward: { targetGroups: [{ name: 'web' }] } } }],
      },
    };
    const dd = desired(alb, { services: SERVICES });
    expect(dd.targetGroups.map((t) => [t.key, t.port])).toEqual([['web', 31002]]);
    expect(dd.rules).toEqual([{ listenerPort: 80, priority: 5, hosts: [], paths: ['/*'], action: { type: 'forward', targetGroups: [{ name: dd.targetGroups[0]?.name, weight: 1 }] } }]);
    expect(dd.securityGroup?.ingress).toEqual([{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '192.168.192.0/22' }]);
    const missing = desiredState(inputs(alb));
    expect(missing.ok ? [] : missing.errors.map((e) => e.field)).toEqual(['spec.targetGroups[0].targetPort', 'spec.rules[0].action']);
  });
  it('refuses fewer than two subnets, naming spec.subnets', () => {
    const r = desiredState(inputs(article(), { subnetIds: ['subnet-a'] }));
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['spec.subnets']);
  });
});

describe('planChanges', () => {
  it('creates in dependency order: SG → ALB → TGs → listeners → rules → registrations', () => {
    const d = desired(article());
    const plan = planChanges(d, EMPTY);
    expect(ops(plan.actions)).toEqual([
      'createSecurityGroup',
      'authorizeGroupIngress',
      'authorizeNodeRules',
      'createLoadBalancer',
      'createTargetGroup',
      'createTargetGroup',
      'createListener',
      'createRule',
      'createRule',
      'registerTargets',
      'registerTargets',
    ]);
    expect(plan.actions.map((a) => describeAction(a, 'ALB')).every((s) => s.length > 0)).toBe(true);
  });
  it('makes no call in the steady state', () => {
    const d = desired(article());
    const actual = apply(d, EMPTY, planChanges(d, EMPTY).actions);
    expect(planChanges(d, actual).actions).toEqual([]);
  });
  it('adding /v3 makes exactly one target group, its registration, its backend rule and one rule', () => {
    const before = article();
    const d1 = desired(before);
    const actual = apply(d1, EMPTY, planChanges(d1, EMPTY).actions);
    const after = translated([ingress('bootcamp', { paths: [path('/v1', 'kubernetes-bootcamp-v1'), path('/v2', 'kubernetes-bootcamp-v2'), path('/v3', 'kubernetes-bootcamp-v3')] })], before);
    const d2 = desired(after);
    const plan = planChanges(d2, actual);
    expect(ops(plan.actions)).toEqual(['authorizeNodeRules', 'createTargetGroup', 'createRule', 'registerTargets']);
    expect(plan.actions[2]).toMatchObject({ rule: { priority: 30, paths: ['/v3', '/v3/*'] } });
    expect(planChanges(d2, apply(d2, actual, plan.actions)).actions).toEqual([]);
  });
  it('a changed backend modifies the rule in place', () => {
    const before = article();
    const d1 = desired(before);
    const actual = apply(d1, EMPTY, planChanges(d1, EMPTY).actions);
    const after = translated([ingress('bootcamp', { paths: [path('/v1', 'kubernetes-bootcamp-v3'), path('/v2', 'kubernetes-bootcamp-v2')] })], before);
    const plan = planChanges(desired(after), actual);
    expect(ops(plan.actions)).toEqual(['authorizeNodeRules', 'createTargetGroup', 'modifyRule', 'registerTargets', 'deleteTargetGroup', 'revokeNodeRules']);
  });
  it('a member leaving the group removes only its rule, target group and backend rule', () => {
    const ann = (order: string) => ({ 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/group.name': 'g', 'alb.ingress.kubernetes.io/group.order': order });
    const a = ingress('a', { annotations: ann('1'), paths: [path('/v1', 'kubernetes-bootcamp-v1')] });
    const b = ingress('b', { annotations: ann('2'), paths: [path('/v2', 'kubernetes-bootcamp-v2')] });
    const both = translated([a, b]);
    const d1 = desired(both);
    const actual = apply(d1, EMPTY, planChanges(d1, EMPTY).actions);
    const onlyA = translated([a], both);
    const plan = planChanges(desired(onlyA), actual);
    expect(ops(plan.actions)).toEqual(['deleteRule', 'deleteTargetGroup', 'revokeNodeRules']);
    expect(plan.actions[0]).toMatchObject({ priority: 20 });
  });
  it('moving the listen port replaces the listener, its rules and the SG ingress, without deleting rules one by one', () => {
    const d1 = desired(article());
    const actual = apply(d1, EMPTY, planChanges(d1, EMPTY).actions);
    const moved = translated([ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/scheme': 'internet-facing', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8080}]' } })], article());
    const plan = planChanges(desired(moved), actual);
    expect(ops(plan.actions)).toEqual(['authorizeGroupIngress', 'createListener', 'createRule', 'createRule', 'deleteListener', 'revokeGroupIngress']);
    expect(planChanges(desired(moved), apply(desired(moved), actual, plan.actions)).actions).toEqual([]);
  });
  it('follows nodes joining and leaving', () => {
    const d1 = desired(article());
    const actual = apply(d1, EMPTY, planChanges(d1, EMPTY).actions);
    const plan = planChanges(desired(article(), { instanceIds: ['i-0a', 'i-0b', 'i-0d'] }), actual);
    expect(ops(plan.actions)).toEqual(['registerTargets', 'registerTargets', 'deregisterTargets', 'deregisterTargets']);
  });
  it('a scheme change creates a new ALB beside the old one, then deletes the old', () => {
    const d1 = desired(article());
    const actual = apply(d1, EMPTY, planChanges(d1, EMPTY).actions);
    const internal = translated([ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 18080}]' } })]);
    const plan = planChanges(desired(internal), actual);
    const o = ops(plan.actions);
    expect(o.indexOf('createLoadBalancer')).toBeLessThan(o.indexOf('deleteLoadBalancer'));
    expect(o.indexOf('deleteLoadBalancer')).toBeLessThan(o.indexOf('deleteTargetGroup'));
  });
  it('removes a duplicate ALB left by a crash, keeping the oldest', () => {
    const d = desired(article());
    const actual = apply(d, EMPTY, planChanges(d, EMPTY).actions);
    const first = actual.loadBalancers[0];
    if (!first) throw new Error('no ALB');
    first.createdTime = new Date(1000);
    actual.loadBalancers.push({ ...first, arn: 'arn:lb-dup', createdTime: new Date(2000) });
    expect(planChanges(d, actual).actions).toEqual([{ op: 'deleteLoadBalancer', arn: 'arn:lb-dup', name: d.loadBalancer.name, why: 'duplicate' }]);
  });
});

describe('planDeletion', () => {
  it('removes the ALB, then target groups, backend rules and the security group', () => {
    const d = desired(article());
    const actual = apply(d, EMPTY, planChanges(d, EMPTY).actions);
    const actions = planDeletion(actual);
    expect(ops(actions)).toEqual(['deleteLoadBalancer', 'deleteTargetGroup', 'deleteTargetGroup', 'revokeNodeRules', 'deleteSecurityGroup']);
    expect(apply(d, actual, actions)).toMatchObject({ loadBalancers: [], targetGroups: [], securityGroups: [], nodeRules: [] });
  });
});
