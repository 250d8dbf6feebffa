/**
 * The ownership guard against the testbed's AWS (moto, seeded with the article's account): the
 * untagged "baseline" security group may not be changed through core; the cluster's node group may,
 * with a rule described by its owner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizeSecurityGroupIngressCommand, CreateVolumeCommand, DeleteSecurityGroupCommand, DeleteVolumeCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import {
  OwnershipError,
  classifyAwsError,
  createAwsClients,
  describeSecurityGroupRules,
  describeSecurityGroups,
  describeVolumes,
  discoverClusterSecurityGroups,
  measureAwsCalls,
  ownedByOwnerFilters,
  ownedTags,
  toTagSpecifications,
  type AwsClients,
  type OwnerRef,
  type SecurityGroup,
  type SecurityGroupRule,
} from '../../src/index.ts';

const owner: OwnerRef = { kind: 'ApplicationLoadBalancer', namespace: 'default', name: 'aws-guard-test', uid: `it-${process.pid}-${Date.now()}` };
const savedEnv = { ...process.env };
let clients: AwsClients;
let cluster: string;
let baseline: SecurityGroup;
let nodeGroup: SecurityGroup;

/** What a human would compare: the rules, without their generated IDs. */
const shape = (rules: SecurityGroupRule[]) =>
  rules.map((r) => ({ egress: r.egress, protocol: r.protocol, from: r.fromPort, to: r.toPort, cidr: r.cidrIpv4, group: r.referencedGroupId, description: r.description })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

beforeAll(async () => {
  const tb = testbedEnv();
  Object.assign(process.env, tb.env);
  cluster = tb.clusterName;
  clients = await createAwsClients({ cluster });
  const groups = await describeSecurityGroups(clients.ec2, {});
  baseline = groups.find((g) => g.name === 'baseline' || g.tags.Name === 'baseline')!;
  expect(baseline, 'the testbed seeds a security group named "baseline"').toBeDefined();
  const { owned } = await discoverClusterSecurityGroups(clients.ec2, { cluster, ...(baseline.vpcId ? { vpcId: baseline.vpcId } : {}) });
  nodeGroup = owned[0]!;
  expect(nodeGroup, 'the testbed seeds a security group tagged for the cluster').toBeDefined();
});

afterAll(() => {
  clients?.destroy();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

const ingress = (port: number, description?: string) => [
  { IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '192.168.192.0/22', ...(description ? { Description: description } : {}) }] },
];

describe('ownership guard on the testbed account', () => {
  it('finds the node group as owned and never offers the baseline group', async () => {
    expect(nodeGroup.tags[`kubernetes.io/cluster/${cluster}`]).toBe('owned');
    expect(baseline.tags[`kubernetes.io/cluster/${cluster}`]).toBeUndefined();
    const { owned, shared } = await discoverClusterSecurityGroups(clients.ec2, { cluster });
    expect([...owned, ...shared].map((g) => g.id)).not.toContain(baseline.id);
  });

  it('refuses to add an ingress rule to the untagged baseline group, and moto is unchanged', async () => {
    const before = shape(await describeSecurityGroupRules(clients.ec2, baseline.id));
    const { result, stats } = await measureAwsCalls(() =>
      clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: baseline.id, IpPermissions: ingress(18080, 'kube-iaas.dev test') })).catch((e: unknown) => e),
    );
    expect(result).toBeInstanceOf(OwnershipError);
    const err = result as OwnershipError;
    expect(err.reason).toBe('untagged');
    expect(err.resourceId).toBe(baseline.id);
    expect(err.missingTag).toBe(`kubernetes.io/cluster/${cluster}`);
    expect(err.message).toContain(`security group ${baseline.id}`);
    expect(classifyAwsError(err)).toMatchObject({ kind: 'terminal', code: 'OwnershipRefused' });
    expect(stats.mutate).toBe(0); // the refusal happened before any mutating call

    await expect(clients.guard.checkSecurityGroup(baseline.id, 'additive', { owner })).rejects.toMatchObject({ reason: 'untagged' });
    await expect(clients.ec2.send(new DeleteSecurityGroupCommand({ GroupId: baseline.id }))).rejects.toBeInstanceOf(OwnershipError);
    // tags may not be used to claim it either
    await expect(
      clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: baseline.id, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: baseline.id }] }] })),
    ).rejects.toBeInstanceOf(OwnershipError);

    clients.guard.clearCache();
    const after = shape(await describeSecurityGroupRules(clients.ec2, baseline.id));
    expect(after).toEqual(before);
  });

  it('makes the same change on the cluster group, described with its owner, and removes it again', async () => {
    const port = 18080;
    const permit = await clients.guard.checkSecurityGroup(nodeGroup.id, 'additive', { owner });
    expect(permit).toMatchObject({ ownership: 'owned', resourceId: nodeGroup.id });
    expect(permit.description).toBe(`kube-iaas.dev cluster=${cluster} owner=ApplicationLoadBalancer/default/aws-guard-test uid=${owner.uid}`);

    const { stats } = await measureAwsCalls(() => clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: nodeGroup.id, IpPermissions: ingress(port, permit.description) })));
    expect(stats.byOperation({ class: 'mutate' })).toEqual({ 'ec2:AuthorizeSecurityGroupIngress': 1 });
    expect(stats.describe).toBe(0); // the check above already read the tags
    try {
      const added = (await describeSecurityGroupRules(clients.ec2, nodeGroup.id)).filter((r) => !r.egress && r.fromPort === port);
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({ protocol: 'tcp', toPort: port, cidrIpv4: '192.168.192.0/22', description: permit.description });
    } finally {
      await clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: nodeGroup.id, IpPermissions: ingress(port) }));
    }
    expect((await describeSecurityGroupRules(clients.ec2, nodeGroup.id)).filter((r) => !r.egress && r.fromPort === port)).toEqual([]);
  });

  it('creates only with ownership tags, and only the owner deletes', async () => {
    await expect(clients.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${clients.region}a`, Size: 1 }))).rejects.toMatchObject({ reason: 'untagged-create' });
    const created = await clients.guard.asOwner(owner, () =>
      clients.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${clients.region}a`, Size: 1, VolumeType: 'gp3', TagSpecifications: toTagSpecifications('volume', ownedTags(cluster, owner)) })),
    );
    const volumeId = created.VolumeId!;
    try {
      const found = await describeVolumes(clients.ec2, { filters: ownedByOwnerFilters(cluster, owner, { byUid: true }) });
      expect(found.map((v) => v.id)).toEqual([volumeId]);
      const stranger: OwnerRef = { ...owner, name: 'someone-else', uid: 'other' };
      await expect(clients.guard.asOwner(stranger, () => clients.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })))).rejects.toMatchObject({ reason: 'not-ours' });
    } finally {
      await clients.guard.asOwner(owner, () => clients.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })));
    }
    clients.guard.clearCache();
    const gone = await clients.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })).catch((e: unknown) => e);
    expect(classifyAwsError(gone).kind).toBe('not-found');
  });
});
