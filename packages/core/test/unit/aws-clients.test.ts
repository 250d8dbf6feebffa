/**
 * The client factory, call counting, rate limiting and the ownership guard, through the real SDK
 * middleware stack. Only the HTTP layer is replaced: a small in-memory AWS answers query-protocol
 * requests with the XML the SDK parses (no network).
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AssignPrivateIpAddressesCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateVolumeCommand,
  DeleteNetworkInterfaceCommand,
  DeleteVolumeCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DeleteListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { metricsRegistry } from '../../src/metrics.ts';
import { AwsError, awsCallStats, createAwsClients, describeSecurityGroups, measureAwsCalls, type AwsClients, type AwsClientsConfig } from '../../src/aws/index.ts';
import { OwnershipError, ownedTags, ownerDescription, toTagSpecifications, type OwnerRef } from '../../src/tags/index.ts';

const cluster = 'int32bit-kubernetes';
const region = 'cn-northwest-1';
const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const owner: OwnerRef = { kind: 'AwsVolume', name: 'pvc-1', uid: 'uid-1' };
const otherOwner: OwnerRef = { kind: 'AwsVolume', name: 'pvc-2', uid: 'uid-2' };

type TagMap = Record<string, string>;
interface Seen {
  host: string;
  authorization: string;
  service: string;
  action: string;
  params: URLSearchParams;
}

const x = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const ec2TagSet = (tags: TagMap) => `<tagSet>${Object.entries(tags).map(([k, v]) => `<item><key>${x(k)}</key><value>${x(v)}</value></item>`).join('')}</tagSet>`;
const members = (tags: TagMap, extra = '') => Object.entries(tags).map(([k, v]) => `<member><Key>${x(k)}</Key><Value>${x(v)}</Value>${extra}</member>`).join('');

/** A tiny in-memory AWS: enough state for the guard's lookups, and a log of what reached it. */
class FakeAws {
  seen: Seen[] = [];
  groups: Record<string, TagMap> = {};
  rules: Record<string, Array<{ id: string; proto: string; from: number; to: number; cidr: string; description?: string }>> = {};
  volumes: Record<string, TagMap> = {};
  instances: Record<string, TagMap> = {};
  enis: Record<string, { tags: TagMap; instanceId?: string; deviceIndex?: number }> = {};
  elbTags: Record<string, TagMap> = {};
  asgs: Record<string, TagMap> = {};
  failures: Array<{ action: string; code: string; status: number; times: number }> = [];
  private n = 0;

  actions(service?: string): string[] {
    return this.seen.filter((s) => !service || s.service === service).map((s) => s.action);
  }

  handler() {
    return {
      handle: async (request: { hostname?: string; port?: number; body?: unknown; headers?: Record<string, string> }) => {
        const params = new URLSearchParams(String(request.body ?? ''));
        const version = params.get('Version');
        const service = version === '2016-11-15' ? 'ec2' : version === '2015-12-01' ? 'elbv2' : version === '2011-01-01' ? 'autoscaling' : 'sts';
        const action = params.get('Action') ?? '';
        const authorization = request.headers?.authorization ?? request.headers?.Authorization ?? '';
        this.seen.push({ host: `${request.hostname}${request.port ? `:${request.port}` : ''}`, authorization, service, action, params });
        const [status, body] = this.answer(service, action, params);
        return { response: { statusCode: status, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(body)]) } };
      },
    };
  }

  private error(service: string, code: string, message: string, status = 400): [number, string] {
    if (service === 'ec2') return [status, `<Response><Errors><Error><Code>${code}</Code><Message>${x(message)}</Message></Error></Errors><RequestID>r-${++this.n}</RequestID></Response>`];
    return [status, `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${x(message)}</Message></Error><RequestId>r-${++this.n}</RequestId></ErrorResponse>`];
  }

  private answer(service: string, action: string, p: URLSearchParams): [number, string] {
    const failure = this.failures.find((f) => f.action === action && f.times > 0);
    if (failure) {
      failure.times -= 1;
      return this.error(service, failure.code, `injected ${failure.code}`, failure.status);
    }
    const ec2 = (body: string) => [200, `<${action}Response xmlns="${EC2_NS}"><requestId>r-${++this.n}</requestId>${body}</${action}Response>`] as [number, string];
    const query = (body: string) => [200, `<${action}Response><${action}Result>${body}</${action}Result><ResponseMetadata><RequestId>r-${++this.n}</RequestId></ResponseMetadata></${action}Response>`] as [number, string];
    switch (`${service}:${action}`) {
      case 'ec2:DescribeSecurityGroups': {
        const id = p.get('GroupId.1') ?? '';
        if (id && !this.groups[id]) return this.error(service, 'InvalidGroup.NotFound', `The security group '${id}' does not exist`);
        const ids = id ? [id] : Object.keys(this.groups);
        return ec2(`<securityGroupInfo>${ids.map((g) => `<item><groupId>${g}</groupId><groupName>${g}</groupName>${ec2TagSet(this.groups[g]!)}</item>`).join('')}</securityGroupInfo>`);
      }
      case 'ec2:DescribeSecurityGroupRules': {
        const id = p.get('Filter.1.Value.1') ?? '';
        const rules = this.rules[id] ?? [];
        return ec2(
          `<securityGroupRuleSet>${rules
            .map((r) => `<item><securityGroupRuleId>${r.id}</securityGroupRuleId><groupId>${id}</groupId><isEgress>false</isEgress><ipProtocol>${r.proto}</ipProtocol><fromPort>${r.from}</fromPort><toPort>${r.to}</toPort><cidrIpv4>${r.cidr}</cidrIpv4>${r.description ? `<description>${x(r.description)}</description>` : ''}</item>`)
            .join('')}</securityGroupRuleSet>`,
        );
      }
      case 'ec2:AuthorizeSecurityGroupIngress':
      case 'ec2:RevokeSecurityGroupIngress':
        return ec2('<return>true</return>');
      case 'ec2:CreateVolume': {
        const id = `vol-${++this.n}`;
        const tags: TagMap = {};
        for (let i = 1; p.has(`TagSpecification.1.Tag.${i}.Key`); i++) tags[p.get(`TagSpecification.1.Tag.${i}.Key`)!] = p.get(`TagSpecification.1.Tag.${i}.Value`) ?? '';
        this.volumes[id] = tags;
        return ec2(`<volumeId>${id}</volumeId><size>30</size><availabilityZone>${region}a</availabilityZone><status>creating</status>${ec2TagSet(tags)}`);
      }
      case 'ec2:DescribeVolumes': {
        const id = p.get('VolumeId.1') ?? '';
        const ids = id ? [id] : Object.keys(this.volumes);
        if (id && !this.volumes[id]) return this.error(service, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
        return ec2(`<volumeSet>${ids.map((v) => `<item><volumeId>${v}</volumeId><size>30</size><status>available</status>${ec2TagSet(this.volumes[v]!)}</item>`).join('')}</volumeSet>`);
      }
      case 'ec2:DeleteVolume':
        delete this.volumes[p.get('VolumeId') ?? ''];
        return ec2('<return>true</return>');
      case 'ec2:DescribeInstances': {
        const id = p.get('InstanceId.1') ?? '';
        return ec2(`<reservationSet><item><instancesSet><item><instanceId>${id}</instanceId>${ec2TagSet(this.instances[id] ?? {})}</item></instancesSet></item></reservationSet>`);
      }
      case 'ec2:DescribeNetworkInterfaces': {
        const id = p.get('NetworkInterfaceId.1') ?? '';
        const eni = this.enis[id];
        if (!eni) return this.error(service, 'InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
        const att = eni.instanceId ? `<attachment><instanceId>${eni.instanceId}</instanceId><deviceIndex>${eni.deviceIndex ?? 0}</deviceIndex></attachment>` : '';
        return ec2(`<networkInterfaceSet><item><networkInterfaceId>${id}</networkInterfaceId>${att}${ec2TagSet(eni.tags)}</item></networkInterfaceSet>`);
      }
      case 'ec2:AssignPrivateIpAddresses':
      case 'ec2:DeleteNetworkInterface':
      case 'ec2:RunInstances':
        return ec2('<return>true</return>');
      case 'elbv2:DescribeTags': {
        const arn = p.get('ResourceArns.member.1') ?? '';
        if (!this.elbTags[arn]) return this.error(service, 'LoadBalancerNotFound', 'One or more load balancers not found');
        return query(`<TagDescriptions><member><ResourceArn>${arn}</ResourceArn><Tags>${members(this.elbTags[arn])}</Tags></member></TagDescriptions>`);
      }
      case 'elbv2:DeleteListener':
        return query('');
      case 'autoscaling:DescribeAutoScalingGroups': {
        const name = p.get('AutoScalingGroupNames.member.1') ?? '';
        const tags = this.asgs[name];
        if (!tags) return query('<AutoScalingGroups></AutoScalingGroups>');
        return query(`<AutoScalingGroups><member><AutoScalingGroupName>${name}</AutoScalingGroupName><MinSize>0</MinSize><MaxSize>10</MaxSize><DesiredCapacity>0</DesiredCapacity><Tags>${members(tags, `<ResourceId>${name}</ResourceId><ResourceType>auto-scaling-group</ResourceType>`)}</Tags></member></AutoScalingGroups>`);
      }
      case 'autoscaling:SetDesiredCapacity':
        return [200, `<SetDesiredCapacityResponse><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SetDesiredCapacityResponse>`];
      case 'sts:AssumeRole':
        return query(
          `<Credentials><AccessKeyId>ASIAASSUMEDROLE</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
            `<AssumedRoleUser><Arn>arn:aws-cn:sts::123456789012:assumed-role/kube-iaas/${p.get('RoleSessionName')}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>`,
        );
      case 'sts:GetCallerIdentity':
        return query('<Arn>arn:aws-cn:iam::123456789012:user/test</Arn><UserId>AIDA</UserId><Account>123456789012</Account>');
      default:
        return this.error(service, 'InvalidAction', `fake AWS does not know ${service}:${action}`);
    }
  }
}

const savedEnv = { ...process.env };
let fake: FakeAws;
let clients: AwsClients;

async function make(extra: Partial<AwsClientsConfig> = {}): Promise<AwsClients> {
  return createAwsClients({
    cluster,
    region,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    sdk: { requestHandler: fake.handler() as never },
    ...extra,
  });
}

beforeEach(async () => {
  process.env.AWS_ENDPOINT_URL = 'http://aws.test:4566';
  fake = new FakeAws();
  clients = await make();
});

afterEach(() => {
  clients.destroy();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

describe('createAwsClients', () => {
  it('sends to AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_<SERVICE> wins for that service', async () => {
    process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = 'http://elb.test:5000';
    const c = await make();
    fake.elbTags['arn:aws-cn:elasticloadbalancing:cn-northwest-1:1:loadbalancer/net/a/1'] = { 'kubernetes.io/cluster/int32bit-kubernetes': 'owned' };
    await c.ec2.send(new DescribeSecurityGroupsCommand({}));
    await c.guard.tagsOf({ service: 'elbv2', id: 'arn:aws-cn:elasticloadbalancing:cn-northwest-1:1:loadbalancer/net/a/1' });
    await c.sts.send(new GetCallerIdentityCommand({}));
    expect(fake.seen.map((s) => `${s.service}@${s.host}`)).toEqual(['ec2@aws.test:4566', 'elbv2@elb.test:5000', 'sts@aws.test:4566']);
    c.destroy();
  });

  it('resolves region, partition, account and ARNs', async () => {
    expect(clients.region).toBe(region);
    expect(clients.partition).toBe('aws-cn');
    expect(await clients.accountId()).toBe('123456789012');
    expect(await clients.arn('ec2', 'volume/vol-1')).toBe('arn:aws-cn:ec2:cn-northwest-1:123456789012:volume/vol-1');
    await clients.accountId();
    expect(fake.actions('sts')).toEqual(['GetCallerIdentity']);
  });

  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION', async () => {
    process.env.AWS_REGION = 'us-gov-west-1';
    const a = await make({ region: undefined as never });
    expect(a.partition).toBe('aws-us-gov');
    delete process.env.AWS_REGION;
    process.env.AWS_DEFAULT_REGION = 'eu-west-1';
    const b = await make({ region: undefined as never });
    expect(b.region).toBe('eu-west-1');
    delete process.env.AWS_DEFAULT_REGION;
    await expect(make({ region: undefined as never, imds: false })).rejects.toThrow(/AWS_REGION or AWS_DEFAULT_REGION/);
    a.destroy();
    b.destroy();
  });

  it('assumes roleArn through STS (counted like any call) and signs with the role credentials', async () => {
    const c = await make({ roleArn: 'arn:aws-cn:iam::123456789012:role/kube-iaas', externalId: 'ext-1' });
    const { stats } = await measureAwsCalls(async () => {
      await c.ec2.send(new DescribeVolumesCommand({}));
      await c.ec2.send(new DescribeVolumesCommand({}));
    });
    const assume = fake.seen.filter((s) => s.action === 'AssumeRole');
    expect(assume).toHaveLength(1);
    expect(assume[0]!.params.get('RoleArn')).toBe('arn:aws-cn:iam::123456789012:role/kube-iaas');
    expect(assume[0]!.params.get('RoleSessionName')).toBe('kube-iaas-int32bit-kubernetes');
    expect(assume[0]!.params.get('ExternalId')).toBe('ext-1');
    expect(assume[0]!.authorization).toContain('Credential=AKIDEXAMPLE/');
    const ec2 = fake.seen.filter((s) => s.service === 'ec2');
    expect(ec2.every((s) => s.authorization.includes('Credential=ASIAASSUMEDROLE/'))).toBe(true);
    expect(stats.byOperation()).toEqual({ 'ec2:DescribeVolumes': 2, 'sts:AssumeRole': 1 });
    c.destroy();
  });

  it('requires the cluster name', async () => {
    await expect(make({ cluster: '' })).rejects.toThrow(/cluster is required/);
  });
});

describe('call counting', () => {
  it('counts each call by service, operation, class and outcome, per scope, per clients and process-wide', async () => {
    fake.groups['sg-owned'] = { 'kubernetes.io/cluster/int32bit-kubernetes': 'owned' };
    const before = awsCallStats();
    const { stats } = await measureAwsCalls(async () => {
      await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-owned'] }));
      await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-owned', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      await expect(clients.ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-missing'] }))).rejects.toBeInstanceOf(AwsError);
    });
    expect(stats.total).toBe(3);
    expect(stats.describe).toBe(2);
    expect(stats.mutate).toBe(1);
    expect(stats.failed).toBe(1);
    expect(stats.count({ outcome: 'not-found' })).toBe(1);
    expect(stats.byOperation()).toEqual({ 'ec2:AuthorizeSecurityGroupIngress': 1, 'ec2:DescribeSecurityGroups': 1, 'ec2:DescribeVolumes': 1 });
    expect(stats.byOperation({ class: 'mutate' })).toEqual({ 'ec2:AuthorizeSecurityGroupIngress': 1 });
    expect(awsCallStats().since(before).mutate).toBeGreaterThanOrEqual(1);
    expect(clients.stats().total).toBe(3);

    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/kube_iaas_aws_api_calls_total\{service="ec2",operation="DescribeVolumes",outcome="not-found"\} \d+/);
    expect(text).toMatch(/kube_iaas_aws_api_calls_total\{service="ec2",operation="AuthorizeSecurityGroupIngress",outcome="success"\} \d+/);
    expect(text).toContain('kube_iaas_aws_api_call_duration_seconds_bucket');
  });

  it('keeps concurrent scopes apart', async () => {
    fake.groups['sg-1'] = {};
    const run = (n: number) =>
      measureAwsCalls(async () => {
        for (let i = 0; i < n; i++) await clients.ec2.send(new DescribeSecurityGroupsCommand({}));
      });
    const [a, b] = await Promise.all([run(2), run(5)]);
    expect(a.stats.total).toBe(2);
    expect(b.stats.total).toBe(5);
    expect(b.log.every((r) => r.service === 'ec2' && r.operation === 'DescribeSecurityGroups')).toBe(true);
  });

  it('classifies errors as AwsError keeping the AWS code and message', async () => {
    const err = await clients.ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-missing'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsError);
    expect(err).toMatchObject({ kind: 'not-found', code: 'InvalidVolume.NotFound', message: "The volume 'vol-missing' does not exist.", service: 'ec2', operation: 'DescribeVolumes' });
  });

  it('retries throttling with the adaptive strategy and records the attempts', async () => {
    const c = await make({ maxAttempts: 3 });
    fake.groups['sg-1'] = {};
    fake.failures.push({ action: 'DescribeSecurityGroups', code: 'Throttling', status: 400, times: 2 });
    const { stats, log } = await measureAwsCalls(() => c.ec2.send(new DescribeSecurityGroupsCommand({})));
    expect(stats.count({ outcome: 'success' })).toBe(1);
    expect(log[0]?.attempts).toBe(3);
    expect(fake.actions()).toEqual(['DescribeSecurityGroups', 'DescribeSecurityGroups', 'DescribeSecurityGroups']);

    fake.failures.push({ action: 'DescribeSecurityGroups', code: 'RequestLimitExceeded', status: 503, times: 5 });
    const err = await c.ec2.send(new DescribeSecurityGroupsCommand({})).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'throttled', code: 'RequestLimitExceeded', retryAfterMs: 1000 });
    c.destroy();
  }, 30_000);
});

describe('client-side rate limit', () => {
  it('paces mutating attempts per the bucket and leaves describes alone', async () => {
    const c = await make({ rateLimits: { ec2: { mutate: { ratePerSecond: 10, burst: 1 } } } });
    const spec = toTagSpecifications('volume', ownedTags(cluster, owner));
    const started = performance.now();
    await Promise.all([1, 2, 3, 4].map(() => c.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 30, TagSpecifications: spec }))));
    const mutateMs = performance.now() - started;
    expect(mutateMs).toBeGreaterThanOrEqual(280); // 1 at once, then 3 at 10/s
    const t2 = performance.now();
    await Promise.all([1, 2, 3, 4, 5, 6].map(() => c.ec2.send(new DescribeVolumesCommand({}))));
    expect(performance.now() - t2).toBeLessThan(250);
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/kube_iaas_aws_rate_limit_wait_seconds_count\{service="ec2",class="mutate"\} \d+/);
    c.destroy();
  });
});

describe('ownership guard on the clients', () => {
  const permission = (description?: string) => [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '192.168.192.0/22', ...(description ? { Description: description } : {}) }] }];

  it('refuses to add a rule to an untagged group: no mutating call reaches AWS', async () => {
    fake.groups['sg-baseline'] = { Name: 'baseline' };
    const err = await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-baseline', IpPermissions: permission() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OwnershipError);
    expect(err).toMatchObject({ reason: 'untagged', resourceId: 'sg-baseline', missingTag: 'kubernetes.io/cluster/int32bit-kubernetes', operation: 'AuthorizeSecurityGroupIngress' });
    expect((err as Error).message).toContain('security group sg-baseline');
    expect(fake.actions()).toEqual(['DescribeSecurityGroups']);
    expect(await metricsRegistry.metrics()).toMatch(/kube_iaas_aws_ownership_refusals_total\{service="ec2",operation="AuthorizeSecurityGroupIngress",reason="untagged"\} \d+/);
  });

  it('allows it on an owned group, reusing tags it has already seen', async () => {
    fake.groups['sg-node'] = { 'kubernetes.io/cluster/int32bit-kubernetes': 'owned', KubernetesCluster: cluster };
    await describeSecurityGroups(clients.ec2, { ids: ['sg-node'] });
    await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-node', IpPermissions: permission() }));
    await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-node', IpPermissions: permission() }));
    expect(fake.actions()).toEqual(['DescribeSecurityGroups', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupIngress']);
  });

  it('shared groups: additive rules must be described with their owner; retract only ours', async () => {
    fake.groups['sg-shared'] = { 'kubernetes.io/cluster/int32bit-kubernetes': 'shared' };
    const refused = await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-shared', IpPermissions: permission('web') })).catch((e: unknown) => e);
    expect(refused).toMatchObject({ reason: 'foreign-description' });
    const permit = await clients.guard.checkSecurityGroup('sg-shared', 'additive', { owner });
    expect(permit.description).toBe(ownerDescription(cluster, owner));
    await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-shared', IpPermissions: permission(permit.description) }));
    expect(fake.actions().filter((a) => a === 'AuthorizeSecurityGroupIngress')).toHaveLength(1);

    fake.rules['sg-shared'] = [
      { id: 'sgr-ours', proto: 'tcp', from: 80, to: 80, cidr: '192.168.192.0/22', description: permit.description! },
      { id: 'sgr-ssh', proto: 'tcp', from: 22, to: 22, cidr: '10.0.0.0/8', description: 'bastion ssh' },
    ];
    await clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: 'sg-shared', IpPermissions: permission() }));
    await clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: 'sg-shared', SecurityGroupRuleIds: ['sgr-ours'] }));
    const ssh = await clients.ec2
      .send(new RevokeSecurityGroupIngressCommand({ GroupId: 'sg-shared', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }))
      .catch((e: unknown) => e);
    expect(ssh).toMatchObject({ reason: 'foreign-description' });
    expect((ssh as Error).message).toContain('bastion ssh');
    expect(fake.actions().filter((a) => a === 'RevokeSecurityGroupIngress')).toHaveLength(2);
  });

  it('creates must carry ownedTags(); the new resource is then known to be ours', async () => {
    const refused = await clients.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 30 })).catch((e: unknown) => e);
    expect(refused).toMatchObject({ reason: 'untagged-create', missingTag: 'kubernetes.io/cluster/int32bit-kubernetes=owned' });
    expect(fake.actions()).toEqual([]);
    const created = await clients.guard.asOwner(owner, () =>
      clients.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 30, TagSpecifications: toTagSpecifications('volume', ownedTags(cluster, owner)) })),
    );
    // another owner may not delete it; its owner may, without another lookup
    const notOurs = await clients.guard.asOwner(otherOwner, () => clients.ec2.send(new DeleteVolumeCommand({ VolumeId: created.VolumeId }))).catch((e: unknown) => e);
    expect(notOurs).toMatchObject({ reason: 'not-ours', missingTag: 'kube-iaas.dev/owner=pvc-2' });
    await clients.guard.asOwner(owner, () => clients.ec2.send(new DeleteVolumeCommand({ VolumeId: created.VolumeId })));
    expect(fake.actions()).toEqual(['CreateVolume', 'DeleteVolume']);
  });

  it('inside an owner scope, creates must carry that owner', async () => {
    const err = await clients.guard
      .asOwner(owner, () => clients.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 30, TagSpecifications: toTagSpecifications('volume', ownedTags(cluster, otherOwner)) })))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'untagged-create', missingTag: 'kube-iaas.dev/owner=pvc-1' });
  });

  it('refuses mutating operations it has no rule for, unless explicitly unchecked', async () => {
    const err = await clients.ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'no-rule', operation: 'RunInstances' });
    await clients.guard.unchecked('test: launching a throwaway instance', () => clients.ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1 })));
    expect(fake.actions()).toEqual(['RunInstances']);
  });

  it('judges listeners by their load balancer', async () => {
    const lb = 'arn:aws-cn:elasticloadbalancing:cn-northwest-1:1:loadbalancer/net/manual/abc';
    fake.elbTags[lb] = { Name: 'made by hand' };
    const err = await clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: `${lb.replace(':loadbalancer/', ':listener/')}/l1` })).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'untagged', resourceId: lb, resourceType: 'load balancer' });
    expect(fake.seen.map((s) => `${s.action} ${s.params.get('ResourceArns.member.1')}`)).toEqual([`DescribeTags ${lb}`]);
  });

  it('scales groups the cluster autoscaler would discover, and no others', async () => {
    fake.asgs['nodes'] = { 'k8s.io/cluster-autoscaler/enabled': 'true', 'k8s.io/cluster-autoscaler/int32bit-kubernetes': 'owned' };
    fake.asgs['someone-else'] = { Name: 'x' };
    await clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'nodes', DesiredCapacity: 4 }));
    const err = await clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'someone-else', DesiredCapacity: 4 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'untagged', resourceType: 'auto scaling group' });
    const missing = await clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'gone', DesiredCapacity: 4 })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ kind: 'not-found' });
    expect(fake.actions('autoscaling').filter((a) => a === 'SetDesiredCapacity')).toHaveLength(1);
  });

  it("judges an instance's untagged primary ENI by the instance, as shared", async () => {
    fake.instances['i-1'] = { 'kubernetes.io/cluster/int32bit-kubernetes': 'owned', KubernetesCluster: cluster };
    fake.enis['eni-primary'] = { tags: {}, instanceId: 'i-1', deviceIndex: 0 };
    fake.enis['eni-stray'] = { tags: {}, instanceId: 'i-1', deviceIndex: 1 };
    await clients.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-primary', SecondaryPrivateIpAddressCount: 2 }));
    await expect(clients.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: 'eni-primary' }))).rejects.toMatchObject({ reason: 'shared' });
    await expect(clients.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-stray', SecondaryPrivateIpAddressCount: 2 }))).rejects.toMatchObject({ reason: 'untagged' });
    expect(fake.actions().filter((a) => !a.startsWith('Describe'))).toEqual(['AssignPrivateIpAddresses']);
  });

  it('passes not-found through when the target does not exist', async () => {
    const err = await clients.ec2.send(new DeleteVolumeCommand({ VolumeId: 'vol-gone' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'not-found', code: 'InvalidVolume.NotFound' });
  });
});
