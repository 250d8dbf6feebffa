// applyPlan against core's typed client boundary: real SDK client objects whose `send` answers from a
// table (the SDK's paginators check the client class), and a guard scope that runs its function. What is
// checked: placeholders resolved to what the plan created, adoption of our own resources after a crash
// (and refusal of anyone else's), retries of deletions while AWS reports a dependency, rule failures that
// do not stop the plan, one log line per action.
import { describe, expect, it } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { AwsError, type AwsClients } from '@kube-iaas/core/aws';
import { ownedTags, type OwnerRef } from '@kube-iaas/core/tags';
import { type Logger } from '@kube-iaas/core/log';
import { applyPlan } from '../../src/aws/index.ts';
import { MANAGED_SG, desiredState, ownerOf, planChanges, type Action, type ActualState, type DesiredState } from '../../src/plan/index.ts';
import { translated, ingress } from './fixtures.ts';

const CLUSTER = 'int32bit-kubernetes';
const EMPTY: ActualState = { loadBalancers: [], securityGroups: [], nodeRules: [], targetGroups: [], listeners: [], rules: [] };
const ARN = 'arn:aws-cn:elasticloadbalancing:cn-northwest-1:123456789012';

type Handler = (input: Record<string, unknown>, n: number) => unknown;

/** AwsClients whose EC2 and ELBv2 `send` answer from `handlers` by operation name; records every call. */
function stubClients(handlers: Record<string, Handler>) {
  const calls: Array<{ op: string; input: Record<string, unknown> }> = [];
  const counts = new Map<string, number>();
  const wire = <C extends { send: unknown }>(client: C): C => {
    client.send = (async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const op = cmd.constructor.name.replace(/Command$/, '');
      calls.push({ op, input: cmd.input });
      const n = (counts.get(op) ?? 0) + 1;
      counts.set(op, n);
      const h = handlers[op];
      if (!h) throw new Error(`unexpected call ${op}`);
      return h(cmd.input, n);
    }) as C['send'];
    return client;
  };
  const config = { region: 'cn-northwest-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const clients = {
    cluster: CLUSTER,
    ec2: wire(new EC2Client(config)),
    elbv2: wire(new ElasticLoadBalancingV2Client(config)),
    guard: { asOwner: <T>(_o: OwnerRef, fn: () => T) => fn() },
  } as unknown as AwsClients;
  return { clients, calls, ops: () => calls.map((c) => c.op) };
}

const awsError = (code: string, kind: 'not-found' | 'conflict' | 'terminal' = 'conflict') => new AwsError({ kind, code, message: `${code} (stub)` });

function article(): { alb: ApplicationLoadBalancer; owner: OwnerRef; desired: DesiredState } {
  const cr = translated([ingress('web')]);
  const alb = { ...cr, metadata: { ...cr.metadata, uid: 'alb-uid-1' } };
  const d = desiredState({ cluster: CLUSTER, alb, instanceIds: ['i-0a', 'i-0b', 'i-0c'], vpcId: 'vpc-1', subnetIds: ['subnet-a', 'subnet-b'], nodeSecurityGroupIds: ['sg-nodes'] });
  if (!d.ok) throw new Error(JSON.stringify(d.errors));
  return { alb, owner: ownerOf(alb), desired: d.desired };
}

/** Answers for a create from nothing: IDs and ARNs numbered per call. */
function createHandlers(): Record<string, Handler> {
  return {
    CreateSecurityGroup: () => ({ GroupId: 'sg-alb' }),
    AuthorizeSecurityGroupIngress: (i) => ({
      SecurityGroupRules: ((i.IpPermissions as Array<{ FromPort: number; UserIdGroupPairs?: Array<{ GroupId: string }> }>) ?? []).map((p, k) => ({
        SecurityGroupRuleId: `sgr-${p.FromPort}-${k}`,
        FromPort: p.FromPort,
        ReferencedGroupInfo: p.UserIdGroupPairs?.[0] ? { GroupId: p.UserIdGroupPairs[0].GroupId } : undefined,
      })),
    }),
    CreateLoadBalancer: (i) => ({ LoadBalancers: [{ LoadBalancerArn: `${ARN}:loadbalancer/app/${String(i.Name)}/1`, LoadBalancerName: i.Name, Scheme: i.Scheme, DNSName: 'web.elb.example', State: { Code: 'provisioning' }, AvailabilityZones: [{ SubnetId: 'subnet-b' }, { SubnetId: 'subnet-a' }], SecurityGroups: i.SecurityGroups }] }),
    CreateTargetGroup: (i) => ({ TargetGroups: [{ TargetGroupArn: `${ARN}:targetgroup/${String(i.Name)}/1` }] }),
    CreateListener: (i) => ({ Listeners: [{ ListenerArn: `${ARN}:listener/app/web/1/${String(i.Port)}` }] }),
    CreateRule: (i) => ({ Rules: [{ RuleArn: `${ARN}:listener-rule/app/web/1/rule-${String(i.Priority)}` }] }),
    RegisterTargets: () => ({}),
  };
}

describe('applyPlan', () => {
  it('creates the article ALB, resolving the managed group, target group names and listener ports; one log line per action', async () => {
    const { owner, desired } = article();
    const { clients, calls } = stubClients(createHandlers());
    const plan = planChanges(desired, EMPTY);
    const lines: string[] = [];
    const logger = { info: (_o: object, msg: string) => lines.push(msg) } as unknown as Logger;
    const applied: Action['op'][] = [];
    const result = await applyPlan({ clients, owner, actual: EMPTY, logger, onApplied: (a) => applied.push(a.op) }, plan.actions);

    expect(result.securityGroupId).toBe('sg-alb');
    const lb = calls.find((c) => c.op === 'CreateLoadBalancer')!.input;
    expect(lb).toMatchObject({ Type: 'application', Scheme: 'internet-facing', SecurityGroups: ['sg-alb'], Subnets: ['subnet-a', 'subnet-b'] });
    const backend = calls.filter((c) => c.op === 'AuthorizeSecurityGroupIngress' && c.input.GroupId === 'sg-nodes');
    expect(backend).toHaveLength(1);
    const pairs = (backend[0]!.input.IpPermissions as Array<{ UserIdGroupPairs: Array<{ GroupId: string; Description: string }> }>).flatMap((p) => p.UserIdGroupPairs);
    expect(pairs.every((p) => p.GroupId === 'sg-alb' && p.Description === desired.ruleDescription)).toBe(true);
    expect(JSON.stringify(calls.map((c) => c.input))).not.toContain(MANAGED_SG);

    const tgArn = (name: string) => result.targetGroupArns.get(name);
    const rules = calls.filter((c) => c.op === 'CreateRule');
    expect(rules.map((r) => r.input.ListenerArn)).toEqual([result.listenerArns.get(18080), result.listenerArns.get(18080)]);
    expect(rules.map((r) => (r.input.Actions as Array<{ TargetGroupArn: string }>)[0]?.TargetGroupArn)).toEqual(desired.rules.map((r) => (r.action.type === 'forward' ? tgArn(r.action.targetGroups[0]!.name) : undefined)));
    expect(rules[0]!.input.Conditions).toEqual([
      { Field: 'host-header', HostHeaderConfig: { Values: ['test.int32bit.me'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: desired.rules[0]!.paths } },
    ]);

    expect(result.loadBalancer).toMatchObject({ dnsName: 'web.elb.example', subnetIds: ['subnet-a', 'subnet-b'], state: 'provisioning' });
    expect(result.rules.map((r) => r.priority).sort()).toEqual(desired.rules.map((r) => r.priority).sort());
    expect(result.nodeRules.map((r) => [r.groupId, r.port, r.sourceGroupId])).toEqual(desired.nodeRules.map((r) => [r.groupId, r.port, 'sg-alb']));
    expect(result.calls).toBe(plan.actions.length);
    expect(applied).toEqual(plan.actions.map((a) => a.op));
    expect(lines).toHaveLength(plan.actions.length);
    expect(lines[0]).toMatch(/^create security group k8s-alb-/);
  });

  it('refuses to run a step whose placeholder was never created', async () => {
    const { owner, desired } = article();
    const { clients } = stubClients(createHandlers());
    const actions = planChanges(desired, EMPTY).actions.filter((a) => a.op !== 'createSecurityGroup');
    await expect(applyPlan({ clients, owner, actual: EMPTY }, actions)).rejects.toThrow(/security group before it exists/);
  });

  it('adopts a load balancer, target group and security group of the same name that carry this owner tags', async () => {
    const { owner, desired } = article();
    const tags = ownedTags(CLUSTER, owner);
    const aws = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
    const lbArn = `${ARN}:loadbalancer/app/${desired.loadBalancer.name}/0`;
    const tgName = desired.targetGroups[0]!.name;
    const { clients } = stubClients({
      ...createHandlers(),
      CreateSecurityGroup: () => {
        throw awsError('InvalidGroup.Duplicate');
      },
      DescribeSecurityGroups: () => ({ SecurityGroups: [{ GroupId: 'sg-old', GroupName: desired.securityGroup!.name, Tags: aws(tags) }] }),
      CreateLoadBalancer: () => {
        throw awsError('DuplicateLoadBalancerName');
      },
      DescribeLoadBalancers: () => ({ LoadBalancers: [{ LoadBalancerArn: lbArn, LoadBalancerName: desired.loadBalancer.name, Scheme: 'internet-facing', DNSName: 'old.elb.example' }] }),
      CreateTargetGroup: () => {
        throw awsError('DuplicateTargetGroupName');
      },
      DescribeTargetGroups: () => ({ TargetGroups: [{ TargetGroupArn: `${ARN}:targetgroup/${tgName}/0`, TargetGroupName: tgName }] }),
      DescribeTags: (i) => ({ TagDescriptions: (i.ResourceArns as string[]).map((ResourceArn) => ({ ResourceArn, Tags: aws(tags) })) }),
    });
    const actions = planChanges(desired, EMPTY).actions.filter((a) => ['createSecurityGroup', 'createLoadBalancer', 'createTargetGroup'].includes(a.op)).slice(0, 3);
    const result = await applyPlan({ clients, owner, actual: EMPTY }, actions);
    expect(result.securityGroupId).toBe('sg-old');
    expect(result.loadBalancer?.arn).toBe(lbArn);
    expect(result.targetGroupArns.get(tgName)).toBe(`${ARN}:targetgroup/${tgName}/0`);
  });

  it('does not adopt a same-named load balancer that is not ours', async () => {
    const { owner, desired } = article();
    const foreign = ownedTags(CLUSTER, { ...owner, uid: 'someone-else' });
    const { clients } = stubClients({
      CreateLoadBalancer: () => {
        throw awsError('DuplicateLoadBalancerName');
      },
      DescribeLoadBalancers: () => ({ LoadBalancers: [{ LoadBalancerArn: `${ARN}:loadbalancer/app/x/0`, LoadBalancerName: desired.loadBalancer.name }] }),
      DescribeTags: (i) => ({ TagDescriptions: (i.ResourceArns as string[]).map((ResourceArn) => ({ ResourceArn, Tags: Object.entries(foreign).map(([Key, Value]) => ({ Key, Value })) })) }),
    });
    await expect(applyPlan({ clients, owner, actual: EMPTY }, [{ op: 'createLoadBalancer', lb: { ...desired.loadBalancer, securityGroups: ['sg-x'] } }])).rejects.toMatchObject({ code: 'DuplicateLoadBalancerName' });
  });

  it('by default a deletion AWS refuses as in use throws at once (the controller\'s queue retries), one call', async () => {
    const { owner } = article();
    const { clients, ops } = stubClients({
      DeleteSecurityGroup: () => {
        throw awsError('DependencyViolation');
      },
    });
    await expect(applyPlan({ clients, owner, actual: EMPTY }, [{ op: 'deleteSecurityGroup', groupId: 'sg-alb', name: 'k8s-alb' }])).rejects.toMatchObject({ code: 'DependencyViolation' });
    expect(ops()).toEqual(['DeleteSecurityGroup']);
  });

  it('retries a deletion inline while AWS reports a dependency when asked, and treats not-found as done', async () => {
    const { owner } = article();
    const { clients, ops } = stubClients({
      DeleteSecurityGroup: (_i, n) => {
        if (n < 3) throw awsError('DependencyViolation');
        return {};
      },
      DeleteTargetGroup: () => {
        throw awsError('TargetGroupNotFound', 'not-found');
      },
    });
    const result = await applyPlan({ clients, owner, actual: EMPTY, dependencyRetry: { baseMs: 1, maxMs: 2, attempts: 8 } }, [
      { op: 'deleteTargetGroup', arn: `${ARN}:targetgroup/gone/0`, name: 'gone' },
      { op: 'deleteSecurityGroup', groupId: 'sg-alb', name: 'k8s-alb' },
    ]);
    expect(ops()).toEqual(['DeleteTargetGroup', 'DeleteSecurityGroup', 'DeleteSecurityGroup', 'DeleteSecurityGroup']);
    expect(result.calls).toBe(2);
  });

  it('gives up on a dependency after the configured attempts, with the AWS error', async () => {
    const { owner } = article();
    const { clients, ops } = stubClients({
      DeleteLoadBalancer: () => {
        throw awsError('ResourceInUse');
      },
    });
    await expect(
      applyPlan({ clients, owner, actual: EMPTY, dependencyRetry: { baseMs: 1, maxMs: 1, attempts: 3 } }, [{ op: 'deleteLoadBalancer', arn: `${ARN}:loadbalancer/app/x/0`, name: 'x', why: 'deleted' }]),
    ).rejects.toMatchObject({ code: 'ResourceInUse' });
    expect(ops()).toHaveLength(3);
  });

  it('a node security group refusing more rules is reported as ruleError; the rest of the plan runs', async () => {
    const { owner, desired } = article();
    const { clients, ops } = stubClients({
      ...createHandlers(),
      AuthorizeSecurityGroupIngress: (i) => {
        if (i.GroupId === 'sg-nodes') throw awsError('RulesPerSecurityGroupLimitExceeded', 'terminal');
        return {};
      },
    });
    const plan = planChanges(desired, EMPTY);
    const result = await applyPlan({ clients, owner, actual: EMPTY }, plan.actions);
    expect(result.ruleError).toMatchObject({ code: 'RulesPerSecurityGroupLimitExceeded' });
    expect(result.calls).toBe(plan.actions.length - 1);
    expect(ops()).toContain('RegisterTargets');
  });

  it('a duplicate rule on a node group (an identical one exists) is added one by one, skipping the duplicate', async () => {
    const { owner, desired } = article();
    const { clients, calls } = stubClients({
      AuthorizeSecurityGroupIngress: (i) => {
        const perms = i.IpPermissions as Array<{ FromPort: number }>;
        if (perms.length > 1 || perms[0]?.FromPort === desired.nodeRules[0]!.port) throw awsError('InvalidPermission.Duplicate');
        return { SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-new', FromPort: perms[0]!.FromPort, ReferencedGroupInfo: { GroupId: 'sg-alb' } }] };
      },
    });
    const rules = desired.nodeRules.map((r) => ({ ...r, sourceGroupId: 'sg-alb' }));
    const result = await applyPlan({ clients, owner, actual: EMPTY }, [{ op: 'authorizeNodeRules', rules, description: desired.ruleDescription }]);
    expect(calls).toHaveLength(1 + rules.length);
    expect(result.ruleError).toBeUndefined();
    expect(result.nodeRules.map((r) => r.id)).toEqual(['sgr-new']);
  });
});
