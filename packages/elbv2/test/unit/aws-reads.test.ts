import { describe, expect, it } from 'vitest';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsError } from '@kube-iaas/core/aws';
import {
  conditionValues,
  describeListeners,
  describeRules,
  describeTargetHealth,
  findTargetGroups,
  fromSdkActions,
  fromSdkConditions,
  registeredTargets,
  toSdkActions,
  toSdkConditions,
  type ElbAction,
} from '../../src/index.ts';

/** An ELBv2 client whose `send` answers by command name; records the inputs. */
function stub(answer: (name: string, input: Record<string, unknown>) => unknown) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  // A real client (the SDK's paginators check the class), whose send never reaches the network.
  const client = new ElasticLoadBalancingV2Client({ region: 'cn-northwest-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  client.send = (async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = cmd.constructor.name.replace(/Command$/, '');
    calls.push({ name, input: cmd.input });
    return answer(name, cmd.input);
  }) as unknown as typeof client.send;
  return { client, calls };
}

const notFound = (code: string) => new AwsError({ kind: 'not-found', code, message: `${code}!` });
const tgArn = (n: string) => `arn:aws-cn:elasticloadbalancing:cn-northwest-1:123456789012:targetgroup/${n}/0123456789abcdef`;

describe('ELBv2 actions and conditions', () => {
  it('round-trips forward, fixed-response and redirect actions in order', () => {
    const actions: ElbAction[] = [
      { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' },
      { type: 'redirect', statusCode: 'HTTP_301', protocol: 'HTTPS', port: '443' },
    ];
    expect(fromSdkActions(toSdkActions(actions))).toEqual(actions);
    const one: ElbAction[] = [{ type: 'forward', targetGroups: [{ arn: tgArn('a'), weight: 1 }] }];
    expect(toSdkActions(one)).toEqual([{ Type: 'forward', Order: 1, TargetGroupArn: tgArn('a') }]);
    expect(fromSdkActions(toSdkActions(one))).toEqual(one);
    const heavy: ElbAction[] = [{ type: 'forward', targetGroups: [{ arn: tgArn('a'), weight: 3 }] }];
    expect(fromSdkActions(toSdkActions(heavy))).toEqual(heavy);
    const two: ElbAction[] = [{ type: 'forward', targetGroups: [{ arn: tgArn('a'), weight: 3 }, { arn: tgArn('b'), weight: 1 }] }];
    expect(fromSdkActions(toSdkActions(two))).toEqual(two);
  });

  it('reads ForwardConfig over TargetGroupArn, sorts by Order, keeps unmanaged types as other', () => {
    expect(
      fromSdkActions([
        { Type: 'forward', Order: 2, TargetGroupArn: tgArn('a'), ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn('a'), Weight: 5 }] } },
        { Type: 'authenticate-oidc', Order: 1 },
      ]),
    ).toEqual([{ type: 'other', awsType: 'authenticate-oidc' }, { type: 'forward', targetGroups: [{ arn: tgArn('a'), weight: 5 }] }]);
    expect(() => toSdkActions([{ type: 'other', awsType: 'authenticate-oidc' }])).toThrow(/authenticate-oidc/);
  });

  it('maps host-header and path-pattern conditions from typed configs and legacy Values', () => {
    const c = fromSdkConditions([
      { Field: 'host-header', HostHeaderConfig: { Values: ['test.int32bit.me'] } },
      { Field: 'path-pattern', Values: ['/v1', '/v1/*'] },
    ]);
    expect(conditionValues(c, 'host-header')).toEqual(['test.int32bit.me']);
    expect(conditionValues(c, 'path-pattern')).toEqual(['/v1', '/v1/*']);
    expect(toSdkConditions(c)).toEqual([
      { Field: 'host-header', HostHeaderConfig: { Values: ['test.int32bit.me'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/v1', '/v1/*'] } },
    ]);
  });
});

describe('ELBv2 describes', () => {
  it('describeRules pages, drops the default rule and sorts by priority', async () => {
    const { client, calls } = stub((_n, input) =>
      input.Marker
        ? { Rules: [{ RuleArn: 'r-default', Priority: 'default', IsDefault: true, Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }] }
        : {
            NextMarker: 'm1',
            Rules: [
              { RuleArn: 'r-20', Priority: '20', Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/v2'] } }], Actions: [{ Type: 'forward', TargetGroupArn: tgArn('b') }] },
              { RuleArn: 'r-10', Priority: '10', Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/v1'] } }], Actions: [{ Type: 'forward', TargetGroupArn: tgArn('a') }] },
            ],
          },
    );
    const rules = await describeRules(client, 'listener-1');
    expect(rules.map((r) => [r.arn, r.priority, r.listenerArn])).toEqual([
      ['r-10', 10, 'listener-1'],
      ['r-20', 20, 'listener-1'],
    ]);
    expect(calls.map((c) => c.input.Marker)).toEqual([undefined, 'm1']);
    const all = await describeRules(client, 'listener-1', { includeDefault: true });
    expect(all.at(-1)).toMatchObject({ arn: 'r-default', isDefault: true });
    expect(all.at(-1)?.priority).toBeUndefined();
  });

  it('a missing listener or load balancer has no rules, listeners or targets', async () => {
    const { client } = stub((n) => {
      throw notFound(n === 'DescribeRules' ? 'ListenerNotFound' : n === 'DescribeListeners' ? 'LoadBalancerNotFound' : 'TargetGroupNotFound');
    });
    expect(await describeRules(client, 'gone')).toEqual([]);
    expect(await describeListeners(client, 'gone')).toEqual([]);
    expect(await describeTargetHealth(client, 'gone')).toEqual([]);
  });

  it('describeListeners maps default actions and certificates, sorted by port', async () => {
    const { client } = stub(() => ({
      Listeners: [
        { ListenerArn: 'l-443', Port: 443, Protocol: 'HTTPS', Certificates: [{ CertificateArn: 'cert-1' }], SslPolicy: 'p', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } }] },
        { ListenerArn: 'l-80', Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn('a') }] },
      ],
    }));
    const ls = await describeListeners(client, 'lb-1');
    expect(ls.map((l) => l.port)).toEqual([80, 443]);
    expect(ls[1]).toEqual({ arn: 'l-443', loadBalancerArn: 'lb-1', port: 443, protocol: 'HTTPS', certificateArns: ['cert-1'], sslPolicy: 'p', defaultActions: [{ type: 'fixed-response', statusCode: '404', contentType: 'text/plain' }] });
  });

  it('registeredTargets leaves draining targets out and counts the healthy ones', async () => {
    const { client } = stub(() => ({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-2', Port: 30001 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: 'i-1', Port: 30001 }, TargetHealth: { State: 'initial' } },
        { Target: { Id: 'i-3', Port: 30001 }, TargetHealth: { State: 'draining' } },
      ],
    }));
    const h = await describeTargetHealth(client, tgArn('a'));
    expect(h.map((t) => t.id)).toEqual(['i-1', 'i-2', 'i-3']);
    expect(registeredTargets(h)).toEqual({ ids: ['i-1', 'i-2'], healthy: 1 });
  });

  it('findTargetGroups looks up by ARN, then only the names not found, with the full health check', async () => {
    const sdk = (n: string) => ({
      TargetGroupArn: tgArn(n),
      TargetGroupName: n,
      Protocol: 'HTTP',
      Port: 30080,
      HealthCheckTimeoutSeconds: 5,
      Matcher: { HttpCode: '200-299' },
      LoadBalancerArns: ['lb-1', 'lb-1'],
    });
    const { client, calls } = stub((name, input) => {
      if (name === 'DescribeTags') return { TagDescriptions: (input.ResourceArns as string[]).map((ResourceArn) => ({ ResourceArn, Tags: [{ Key: 'k', Value: 'v' }] })) };
      if (input.TargetGroupArns) return { TargetGroups: [sdk('a')] };
      const names = input.Names as string[];
      if (names.includes('gone')) throw notFound('TargetGroupNotFound');
      return { TargetGroups: names.map(sdk) };
    });
    const tgs = await findTargetGroups(client, { arns: [tgArn('a')], names: ['a', 'b', 'gone'] });
    expect(tgs.map((t) => t.name)).toEqual(['a', 'b']);
    expect(tgs[0]?.healthCheck).toMatchObject({ timeoutSeconds: 5, successCodes: '200-299' });
    expect(tgs[0]?.loadBalancerArns).toEqual(['lb-1']);
    expect(tgs[0]?.tags).toEqual({ k: 'v' });
    const byName = calls.filter((c) => c.name === 'DescribeTargetGroups' && c.input.Names).map((c) => c.input.Names);
    expect(byName[0]).toEqual(['b', 'gone']);
  });
});
