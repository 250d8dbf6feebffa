// readActual against core's typed client boundary (SDK client objects whose `send` answers from a table):
// what counts as ours, how actions map back to the planner's shapes, and recovery of a lost status.
import { describe, expect, it } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsError, type AwsClients } from '@kube-iaas/core/aws';
import { ownedTags, ownerDescription, type OwnerRef } from '@kube-iaas/core/tags';
import { readActual, targetGroupNameOf, toRuleAction } from '../../src/aws/index.ts';
import { loadBalancerName } from '../../src/plan/index.ts';

const CLUSTER = 'int32bit-kubernetes';
const ARN = 'arn:aws-cn:elasticloadbalancing:cn-northwest-1:123456789012';
const owner: OwnerRef = { kind: 'ApplicationLoadBalancer', namespace: 'default', name: 'web', uid: 'uid-1' };
const other: OwnerRef = { ...owner, uid: 'uid-2' };
const tagList = (o: OwnerRef) => Object.entries(ownedTags(CLUSTER, o)).map(([Key, Value]) => ({ Key, Value }));

function stubClients(handlers: Record<string, (input: Record<string, unknown>) => unknown>) {
  const calls: Array<{ op: string; input: Record<string, unknown> }> = [];
  const wire = <C extends { send: unknown }>(client: C): C => {
    client.send = (async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const op = cmd.constructor.name.replace(/Command$/, '');
      calls.push({ op, input: cmd.input });
      const h = handlers[op];
      if (!h) throw new Error(`unexpected call ${op}`);
      return h(cmd.input);
    }) as C['send'];
    return client;
  };
  const config = { region: 'cn-northwest-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const clients = { cluster: CLUSTER, ec2: wire(new EC2Client(config)), elbv2: wire(new ElasticLoadBalancingV2Client(config)) } as unknown as AwsClients;
  return { clients, calls };
}

describe('toRuleAction', () => {
  it('names target groups by the name in their ARN and leaves out the placeholders AWS fills in redirects', () => {
    expect(targetGroupNameOf(`${ARN}:targetgroup/k8s-default-v1-abc/0123`)).toBe('k8s-default-v1-abc');
    expect(toRuleAction({ type: 'forward', targetGroups: [{ arn: `${ARN}:targetgroup/a/1`, weight: 1 }] })).toEqual({ type: 'forward', targetGroups: [{ name: 'a', weight: 1 }] });
    expect(toRuleAction({ type: 'redirect', statusCode: 'HTTP_301', protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}' })).toEqual({
      type: 'redirect',
      statusCode: 'HTTP_301',
      protocol: 'HTTPS',
      port: '443',
    });
    expect(toRuleAction({ type: 'fixed-response', statusCode: '404', contentType: 'text/plain' })).toEqual({ type: 'fixed-response', statusCode: '404', contentType: 'text/plain' });
    expect(toRuleAction({ type: 'other', awsType: 'authenticate-oidc' })).toBeUndefined();
  });
});

describe('readActual', () => {
  const name = loadBalancerName({ cluster: CLUSTER, namespace: 'default', name: 'web', uid: 'uid-1', scheme: 'internet-facing' });
  const lbArn = `${ARN}:loadbalancer/app/${name}/1`;
  const foreignArn = `${ARN}:loadbalancer/app/${name}/2`;
  const listenerArn = `${ARN}:listener/app/${name}/1/l1`;
  const tgArn = `${ARN}:targetgroup/k8s-default-v1/1`;

  function world() {
    return stubClients({
      DescribeLoadBalancers: (i) => {
        if (i.LoadBalancerArns) throw new AwsError({ kind: 'not-found', code: 'LoadBalancerNotFound', message: 'gone' });
        expect(i.Names).toContain(name);
        return {
          LoadBalancers: [
            { LoadBalancerArn: lbArn, LoadBalancerName: name, Type: 'application', Scheme: 'internet-facing', DNSName: 'web.elb', State: { Code: 'active' }, AvailabilityZones: [{ SubnetId: 'subnet-b' }, { SubnetId: 'subnet-a' }], SecurityGroups: ['sg-alb'] },
            { LoadBalancerArn: foreignArn, LoadBalancerName: name, Type: 'application', Scheme: 'internet-facing' },
          ],
        };
      },
      DescribeTags: (i) => ({ TagDescriptions: (i.ResourceArns as string[]).map((ResourceArn) => ({ ResourceArn, Tags: tagList(ResourceArn === foreignArn ? other : owner) })) }),
      DescribeListeners: () => ({ Listeners: [{ ListenerArn: listenerArn, Port: 18080, Protocol: 'HTTP', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } }] }] }),
      DescribeRules: () => ({
        Rules: [
          { RuleArn: 'r-default', Priority: 'default', IsDefault: true, Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] },
          {
            RuleArn: 'r-10',
            Priority: '10',
            Conditions: [
              { Field: 'host-header', HostHeaderConfig: { Values: ['test.int32bit.me'] } },
              { Field: 'path-pattern', PathPatternConfig: { Values: ['/v1', '/v1/*'] } },
            ],
            Actions: [{ Type: 'forward', TargetGroupArn: tgArn }],
          },
        ],
      }),
      DescribeTargetGroups: (i) => ({
        TargetGroups: ((i.TargetGroupArns as string[] | undefined) ?? []).includes(tgArn)
          ? [{ TargetGroupArn: tgArn, TargetGroupName: 'k8s-default-v1', Protocol: 'HTTP', Port: 31001, HealthCheckProtocol: 'HTTP', HealthCheckPath: '/', HealthCheckTimeoutSeconds: 5, Matcher: { HttpCode: '200' } }]
          : [],
      }),
      DescribeTargetHealth: () => ({
        TargetHealthDescriptions: [
          { Target: { Id: 'i-0b' }, TargetHealth: { State: 'healthy' } },
          { Target: { Id: 'i-0a' }, TargetHealth: { State: 'initial' } },
          { Target: { Id: 'i-0c' }, TargetHealth: { State: 'draining' } },
        ],
      }),
      DescribeSecurityGroups: (i) => {
        if (i.GroupIds) {
          // The fallback for descriptions DescribeSecurityGroupRules left out.
          return { SecurityGroups: [{ GroupId: 'sg-nodes', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 31001, ToPort: 31001, UserIdGroupPairs: [{ GroupId: 'sg-alb', Description: ownerDescription(CLUSTER, owner) }] }] }] };
        }
        return { SecurityGroups: [{ GroupId: 'sg-alb', GroupName: 'k8s-alb-default-web', Tags: tagList(owner) }] };
      },
      DescribeSecurityGroupRules: (i) => {
        const group = (i.Filters as Array<{ Values: string[] }>)[0]!.Values[0];
        if (group === 'sg-alb') {
          return {
            SecurityGroupRules: [
              { SecurityGroupRuleId: 'sgr-in', GroupId: 'sg-alb', IsEgress: false, IpProtocol: 'tcp', FromPort: 18080, ToPort: 18080, CidrIpv4: '0.0.0.0/0' },
              { SecurityGroupRuleId: 'sgr-out', GroupId: 'sg-alb', IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
            ],
          };
        }
        return {
          SecurityGroupRules: [
            { SecurityGroupRuleId: 'sgr-ours', GroupId: 'sg-nodes', IsEgress: false, IpProtocol: 'tcp', FromPort: 31001, ToPort: 31001, ReferencedGroupInfo: { GroupId: 'sg-alb' } },
            { SecurityGroupRuleId: 'sgr-theirs', GroupId: 'sg-nodes', IsEgress: false, IpProtocol: 'tcp', FromPort: 31001, ToPort: 31001, ReferencedGroupInfo: { GroupId: 'sg-x' }, Description: ownerDescription(CLUSTER, other) },
            { SecurityGroupRuleId: 'sgr-human', GroupId: 'sg-nodes', IsEgress: false, IpProtocol: '-1', ReferencedGroupInfo: { GroupId: 'sg-nodes' }, Description: 'node to node' },
          ],
        };
      },
    });
  }

  it('with a stale status ARN and no desired state: finds this owner by name only, maps listeners, rules, target groups, groups and backend rules', async () => {
    const { clients } = world();
    const actual = await readActual({ clients, owner, status: { loadBalancerArn: `${ARN}:loadbalancer/app/${name}/0` }, nodeSecurityGroupIds: ['sg-nodes'] });
    expect(actual.loadBalancers.map((lb) => lb.arn)).toEqual([lbArn]);
    expect(actual.loadBalancers[0]).toMatchObject({ dnsName: 'web.elb', state: 'active', subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-alb'] });
    expect(actual.listeners).toEqual([{ arn: listenerArn, loadBalancerArn: lbArn, port: 18080, protocol: 'HTTP', certificateArns: [], forwardArns: [], defaultAction: { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' } }]);
    expect(actual.rules).toEqual([
      { arn: 'r-10', listenerArn, listenerPort: 18080, priority: 10, hosts: ['test.int32bit.me'], paths: ['/v1', '/v1/*'], action: { type: 'forward', targetGroups: [{ name: 'k8s-default-v1', weight: 1 }] }, forwardArns: [tgArn] },
    ]);
    expect(actual.targetGroups).toHaveLength(1);
    expect(actual.targetGroups[0]).toMatchObject({ arn: tgArn, port: 31001, targets: ['i-0a', 'i-0b'], healthCheck: { protocol: 'HTTP', path: '/', timeoutSeconds: 5, successCodes: '200' } });
    expect(actual.securityGroups).toEqual([{ id: 'sg-alb', name: 'k8s-alb-default-web', tags: ownedTags(CLUSTER, owner), ingress: [{ id: 'sgr-in', protocol: 'tcp', fromPort: 18080, toPort: 18080, cidr: '0.0.0.0/0' }] }]);
    expect(actual.nodeRules).toEqual([{ id: 'sgr-ours', groupId: 'sg-nodes', protocol: 'tcp', port: 31001, sourceGroupId: 'sg-alb', description: ownerDescription(CLUSTER, owner) }]);
  });

  it('with a desired state but no status, also looks for the name under the other scheme (an ALB left by a scheme change)', async () => {
    const { clients, calls } = world();
    const desired = { loadBalancer: { name, attributes: {} }, targetGroups: [] } as unknown as Parameters<typeof readActual>[0]['desired'];
    await readActual({ clients, owner, desired, nodeSecurityGroupIds: [] });
    const asked = calls.filter((c) => c.op === 'DescribeLoadBalancers').flatMap((c) => (c.input.Names as string[] | undefined) ?? []);
    expect(asked).toContain(loadBalancerName({ cluster: CLUSTER, namespace: 'default', name: 'web', uid: 'uid-1', scheme: 'internal' }));
  });
});
