// applyPlan against core's typed client boundary: real SDK client objects whose `send` answers from a
// table, and a guard scope that runs its function.
import { describe, expect, it } from 'vitest';
import { applyPlan, emptyActual, planChanges, type Action } from '../../src/index.ts';
import { ARN, awsError, converged, model, owner, stubClients } from './fixtures.ts';

function createHandlers() {
  return {
    CreateSecurityGroup: () => ({ GroupId: 'sg-own' }),
    AuthorizeSecurityGroupIngress: (i: Record<string, unknown>) => ({
      SecurityGroupRules: ((i.IpPermissions as Array<{ FromPort: number; IpRanges?: Array<{ CidrIp: string }>; UserIdGroupPairs?: Array<{ GroupId: string }> }>) ?? []).map((p, k) => ({
        SecurityGroupRuleId: `sgr-${p.FromPort}-${k}`,
        IpProtocol: 'tcp',
        FromPort: p.FromPort,
        ToPort: p.FromPort,
        CidrIpv4: p.IpRanges?.[0]?.CidrIp,
        ReferencedGroupInfo: p.UserIdGroupPairs?.[0] ? { GroupId: p.UserIdGroupPairs[0].GroupId } : undefined,
      })),
    }),
    CreateLoadBalancer: (i: Record<string, unknown>) => ({
      LoadBalancers: [{ LoadBalancerArn: `${ARN}:loadbalancer/app/${String(i.Name)}/1`, LoadBalancerName: i.Name, Scheme: i.Scheme, DNSName: 'web.elb.example', State: { Code: 'provisioning' }, AvailabilityZones: [{ SubnetId: 'subnet-b' }, { SubnetId: 'subnet-a' }], SecurityGroups: i.SecurityGroups }],
    }),
    CreateTargetGroup: (i: Record<string, unknown>) => ({ TargetGroups: [{ TargetGroupArn: `${ARN}:targetgroup/${String(i.Name)}/1` }] }),
    CreateListener: (i: Record<string, unknown>) => ({ Listeners: [{ ListenerArn: `${ARN}:listener/app/web/1/${String(i.Port)}` }] }),
    CreateRule: (i: Record<string, unknown>) => ({ Rules: [{ RuleArn: `${ARN}:listener-rule/app/web/1/rule-${String(i.Priority)}` }] }),
    RegisterTargets: () => ({}),
  };
}

describe('applyPlan', () => {
  it('creates everything, resolving the own group, target group names and listener ports', async () => {
    const { clients, calls } = stubClients(createHandlers());
    const applied: Action[] = [];
    const plan = planChanges(model(), emptyActual());
    const r = await applyPlan({ clients, owner, actual: emptyActual(), onApplied: (a) => applied.push(a) }, plan.actions);
    expect(r.calls).toBe(plan.actions.length);
    expect(applied).toEqual(plan.actions);
    expect(r.securityGroupId).toBe('sg-own');
    expect(r.loadBalancer).toMatchObject({ dnsName: 'web.elb.example', subnetIds: ['subnet-a', 'subnet-b'] });
    expect(calls.find((c) => c.op === 'CreateLoadBalancer')?.input.SecurityGroups).toEqual(['sg-own']);
    const nodeRule = calls.filter((c) => c.op === 'AuthorizeSecurityGroupIngress')[1]?.input;
    expect(nodeRule).toMatchObject({ GroupId: 'sg-nodes', IpPermissions: [{ FromPort: 30080, UserIdGroupPairs: [{ GroupId: 'sg-own' }] }] });
    expect(r.nodeRules).toEqual([{ id: 'sgr-30080-0', groupId: 'sg-nodes', protocol: 'tcp', port: 30080, sourceGroupId: 'sg-own', description: model().ruleDescription }]);
    const rule = calls.find((c) => c.op === 'CreateRule')?.input;
    expect(rule).toMatchObject({ ListenerArn: `${ARN}:listener/app/web/1/80`, Actions: [{ Type: 'forward', TargetGroupArn: `${ARN}:targetgroup/k8s-default-tg-0123456789/1` }] });
    expect([...r.listenerArns.keys()]).toEqual([80]);
  });

  it('adopts a load balancer of ours that a crashed run created, refuses anyone else’s', async () => {
    const m = model();
    const existing = converged(m).loadBalancers[0];
    const describe = (tags: Record<string, string>) => ({
      DescribeLoadBalancers: () => ({ LoadBalancers: [{ LoadBalancerArn: existing?.arn, LoadBalancerName: m.loadBalancer.name, Scheme: 'internet-facing', Type: 'application' }] }),
      DescribeTags: () => ({ TagDescriptions: [{ ResourceArn: existing?.arn, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }),
      CreateLoadBalancer: () => {
        throw awsError('DuplicateLoadBalancerName');
      },
    });
    const create: Action[] = [{ op: 'createLoadBalancer', lb: { ...m.loadBalancer, securityGroups: ['sg-user'] } }];
    const ours = stubClients(describe(m.loadBalancer.tags));
    expect((await applyPlan({ clients: ours.clients, owner, actual: emptyActual() }, create)).loadBalancer?.arn).toBe(existing?.arn);
    const theirs = stubClients(describe({ ...m.loadBalancer.tags, 'kube-iaas.dev/owner-uid': 'someone-else' }));
    await expect(applyPlan({ clients: theirs.clients, owner, actual: emptyActual() }, create)).rejects.toMatchObject({ code: 'DuplicateLoadBalancerName' });
  });

  it('reports a rule quota instead of stopping the plan', async () => {
    const m = model();
    const { clients, ops } = stubClients({
      ...createHandlers(),
      AuthorizeSecurityGroupIngress: (i: Record<string, unknown>) => {
        if (i.GroupId === 'sg-nodes') throw awsError('RulesPerSecurityGroupLimitExceeded', 'terminal');
        return { SecurityGroupRules: [] };
      },
    });
    const plan = planChanges(m, emptyActual());
    const r = await applyPlan({ clients, owner, actual: emptyActual() }, plan.actions);
    expect(r.ruleError).toMatchObject({ code: 'RulesPerSecurityGroupLimitExceeded' });
    expect(r.calls).toBe(plan.actions.length - 1);
    expect(ops()).toContain('CreateRule');
  });

  it('retries a delete AWS still sees in use only as often as asked', async () => {
    let n = 0;
    const { clients } = stubClients({
      DeleteSecurityGroup: () => {
        if (++n < 3) throw awsError('DependencyViolation');
        return {};
      },
    });
    const del: Action[] = [{ op: 'deleteSecurityGroup', groupId: 'sg-own', name: 'x' }];
    await expect(applyPlan({ clients, owner, actual: emptyActual() }, del)).rejects.toMatchObject({ code: 'DependencyViolation' });
    n = 0;
    const r = await applyPlan({ clients, owner, actual: emptyActual(), dependencyRetry: { attempts: 3, baseMs: 1, maxMs: 2 } }, del);
    expect(r.calls).toBe(1);
  });

  it('tags security groups with CreateTags and ELBv2 resources with AddTags', async () => {
    const { clients, ops } = stubClients({ CreateTags: () => ({}), AddTags: () => ({}) });
    await applyPlan({ clients, owner, actual: emptyActual() }, [{ op: 'addTags', arns: ['sg-own', `${ARN}:loadbalancer/app/x/1`], tags: { a: 'b' } }]);
    expect(ops()).toEqual(['CreateTags', 'AddTags']);
  });
});
