import { describe, expect, it } from 'vitest';
import { OwnershipGuard, ec2Resource, type AwsClients } from '@kube-iaas/core/aws';
import { ownedTags } from '@kube-iaas/core/tags';
import { applyPoolPlan, networkRefusal, type ActualPool } from '../../src/aws/eni.ts';
import { conflictMessage, decidedWithoutTags, inCidr, instanceHolder, planPool, restorations, type ClaimInput } from '../../src/plan/index.ts';

const I = 'i-0123456789abcdef0';
const input = (o: Partial<ClaimInput>): ClaimInput => ({ instanceId: I, nodes: [], pools: [], taggedUids: new Set(), ...o });
const node = { name: 'ip-192-168-193-20', createdAt: '2026-01-01T00:00:00Z' };
const nodePool = { name: 'ip-192-168-193-20', uid: 'u-node', createdAt: '2026-01-01T00:00:05Z' };
const evil = { name: 'evil-pool', uid: 'u-evil', createdAt: '2025-12-31T00:00:00Z' };

describe('which EniPool holds an instance', () => {
  it('a Node\'s instance: the pool named after the Node, whatever was created first and whatever the tags say', () => {
    expect(instanceHolder(input({ nodes: [node], pools: [nodePool, evil] }))?.holder).toBe(node.name);
    expect(instanceHolder(input({ nodes: [node], pools: [nodePool, evil], taggedUids: new Set(['u-evil']) }))?.holder).toBe(node.name);
    // Even before the Node's pool exists: a hand-written pool applied first does not take the instance.
    expect(instanceHolder(input({ nodes: [node], pools: [evil] }))?.holder).toBe(node.name);
    expect(conflictMessage('evil-pool', input({ nodes: [node], pools: [evil] }))?.message).toMatch(/instance i-0123456789abcdef0 is held by EniPool ip-192-168-193-20 \(the instance is Node ip-192-168-193-20's/);
    expect(conflictMessage(node.name, input({ nodes: [node], pools: [nodePool, evil] }))).toBeUndefined();
    // Two Nodes naming one instance: the older one.
    expect(instanceHolder(input({ nodes: [{ name: 'b', createdAt: '2026-01-02T00:00:00Z' }, { name: 'a', createdAt: '2026-01-03T00:00:00Z' }] }))?.holder).toBe('b');
  });

  it('no Node: the pool whose owner tags are on the instance\'s ENIs, else the oldest, then the name', () => {
    const a = { name: 'a', uid: 'u-a', createdAt: '2026-01-02T00:00:00Z' };
    const b = { name: 'b', uid: 'u-b', createdAt: '2026-01-01T00:00:00Z' };
    expect(instanceHolder(input({ pools: [a, b], taggedUids: new Set(['u-a']) }))?.holder).toBe('a');
    expect(instanceHolder(input({ pools: [a, b] }))?.holder).toBe('b');
    expect(instanceHolder(input({ pools: [a, { ...b, createdAt: a.createdAt }] }))?.holder).toBe('a');
    // Tags of a pool that no longer exists decide nothing.
    expect(instanceHolder(input({ pools: [a, b], taggedUids: new Set(['u-gone']) }))?.holder).toBe('b');
    expect(conflictMessage('a', input({ pools: [a, b] }))).toMatchObject({ holder: 'b' });
    expect(instanceHolder(input({}))).toBeUndefined();
  });

  it('needs the ENIs\' tags only between pools of an instance no Node has', () => {
    expect(decidedWithoutTags({ nodes: [node], pools: [nodePool, evil] })).toBe(true);
    expect(decidedWithoutTags({ nodes: [], pools: [evil] })).toBe(true);
    expect(decidedWithoutTags({ nodes: [], pools: [nodePool, evil] })).toBe(false);
  });
});

describe('ENIs that are not the pool\'s', () => {
  it('their device indexes are never planned over', () => {
    const plan = planPool({
      enis: [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.1'] }],
      used: new Set(['10.0.0.1']),
      cooling: new Set(),
      waiting: 20,
      capacity: { maxEnis: 4, ipsPerEni: 15, podAddresses: 56, maxPods: 58, limit: 56 },
      targets: { warmEni: 1, shrinkPolicy: 'Release' },
      reservedDeviceIndexes: [1],
    });
    expect(plan.actions.filter((a) => a.op === 'createEni').map((a) => (a.op === 'createEni' ? a.deviceIndex : -1))).toEqual([2, 3]);
  });

  it('the guard refuses assigning to or unassigning from an ENI tagged for another pool, before any call', async () => {
    const cluster = 'int32bit-kubernetes';
    const sent: string[] = [];
    const guard = new OwnershipGuard({ cluster });
    guard.observe(ec2Resource('eni-other'), ownedTags(cluster, { kind: 'EniPool', name: 'ip-192-168-193-20', uid: 'u-node' }));
    const clients = { ec2: { send: async (cmd: { constructor: { name: string } }) => (sent.push(cmd.constructor.name), {}) }, cluster, guard } as unknown as AwsClients;
    const actual = { attached: [{ id: 'eni-0', attachment: { deviceIndex: 0 } }], foreign: [], detached: [], subnetCidrs: new Map() } as unknown as ActualPool;
    const ctx = { clients, owner: { kind: 'EniPool', name: 'evil-pool', uid: 'u-evil' }, instanceId: I, subnetId: 'subnet-1', securityGroupIds: ['sg-1'] };
    await expect(applyPoolPlan(ctx, actual, [{ op: 'unassignIps', eniId: 'eni-other', ips: ['10.0.0.9'] }])).rejects.toMatchObject({ name: 'OwnershipError', reason: 'not-ours' });
    await expect(applyPoolPlan(ctx, actual, [{ op: 'assignIps', eniId: 'eni-other', count: 1 }])).rejects.toMatchObject({ name: 'OwnershipError', reason: 'not-ours' });
    expect(sent).toEqual([]);
    // Its own owner passes.
    await applyPoolPlan({ ...ctx, owner: { kind: 'EniPool', name: 'ip-192-168-193-20', uid: 'u-node' } }, actual, [{ op: 'unassignIps', eniId: 'eni-other', ips: ['10.0.0.9'] }]);
    expect(sent).toEqual(['UnassignPrivateIpAddressesCommand']);
  });
});

describe('spec.subnetId and spec.securityGroupIds', () => {
  it('may name what a Node\'s pool gets (flags, the primary ENI\'s) or what is tagged for the cluster; nothing else', async () => {
    const cluster = 'int32bit-kubernetes';
    const guard = new OwnershipGuard({ cluster });
    const tagged = { [`kubernetes.io/cluster/${cluster}`]: 'shared' };
    guard.observe(ec2Resource('subnet-ours'), tagged);
    guard.observe(ec2Resource('subnet-bare'), {});
    guard.observe(ec2Resource('sg-ours'), tagged);
    guard.observe(ec2Resource('sg-other'), { 'kubernetes.io/cluster/another': 'owned' });
    // No ec2 at all: every answer comes from what the guard has seen, or needs no look-up.
    const clients = { cluster, guard } as unknown as AwsClients;
    const primary = { subnetId: 'subnet-primary', securityGroupIds: ['sg-baseline'] };
    const allowed = { subnetIds: ['subnet-flag'], securityGroupIds: ['sg-flag'] };
    const refusal = (spec: { subnetId?: string; securityGroupIds?: string[] }) => networkRefusal(clients, spec, primary, allowed);
    expect(await refusal({})).toBeUndefined();
    expect(await refusal({ subnetId: 'subnet-primary', securityGroupIds: ['sg-baseline', 'sg-flag', 'sg-ours'] })).toBeUndefined();
    expect(await refusal({ subnetId: 'subnet-flag' })).toBeUndefined();
    expect(await refusal({ subnetId: 'subnet-ours' })).toBeUndefined();
    expect(await refusal({ subnetId: 'subnet-bare' })).toMatch(/^spec\.subnetId: .*subnet-bare.*no cluster tag/);
    expect(await refusal({ securityGroupIds: ['sg-ours', 'sg-other'] })).toMatch(/^spec\.securityGroupIds\[1\]: .*sg-other.*cluster another/);
  });
});

describe('addresses pods hold that are gone from the pool\'s ENIs', () => {
  const alloc = (ip: string, eniId: string) => ({ ip, eniId, deviceIndex: 0, routeTable: 254, podNamespace: 'default', podName: ip, podUid: ip, allocatedAt: '2026-01-01T00:00:00Z' });
  it('are assigned back to their ENI, or another with room in their subnet; never one another ENI holds', () => {
    const enis = [
      { eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.5'], subnetCidr: '10.0.0.0/24' },
      { eniId: 'eni-1', deviceIndex: 1, secondaryIps: ['10.0.0.6', '10.0.0.7'], subnetCidr: '10.0.0.0/24' },
    ];
    const actions = restorations([alloc('10.0.0.5', 'eni-0'), alloc('10.0.0.9', 'eni-1'), alloc('10.0.0.10', 'eni-gone'), alloc('10.0.0.11', 'eni-1'), alloc('10.0.1.3', 'eni-1')], enis, new Set(['10.0.0.5', '10.0.0.11']), 3);
    // 10.0.0.5 is listed (nothing to do); 10.0.0.11 another ENI holds; 10.0.1.3 fits no subnet; eni-1 has room for one.
    expect(actions).toEqual([
      { op: 'assignIps', eniId: 'eni-1', count: 1, ips: ['10.0.0.9'] },
      { op: 'assignIps', eniId: 'eni-0', count: 1, ips: ['10.0.0.10'] },
    ]);
    expect(inCidr('192.168.193.49', '192.168.192.0/22')).toBe(true);
    expect(inCidr('192.168.196.1', '192.168.192.0/22')).toBe(false);
  });
});
