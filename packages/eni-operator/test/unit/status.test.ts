// The allocation fast path's pure steps on the recorded pool, the removal of addresses before they
// go back to AWS, and what an AWS refusal during growth means (subnet full, ENI limit) — the last at
// core's typed boundary (an AwsError from the EC2 client), because moto never produces those errors.
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { EniPoolStatus } from '@kube-iaas/crds';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AwsError, OwnershipGuard, type AwsClients } from '@kube-iaas/core/aws';
import { allocationStep, capacityOf, planFromStatus, poolFailure, withCounts, withoutAddresses, type PodRef } from '../../src/plan/index.ts';
import { applyPoolPlan, type ActualPool } from '../../src/aws/eni.ts';
import { PodClock } from '../../src/controllers/pods.ts';

const T0 = new Date('2026-11-27T12:00:00Z');
const pods = (n: number, from = 0): PodRef[] => Array.from({ length: n }, (_, i) => ({ namespace: 'default', name: `p${from + i}`, uid: `u${from + i}` }));

function recorded(over: Partial<EniPoolStatus> = {}): EniPoolStatus {
  return {
    capacity: { maxEnis: 3, ipsPerEni: 10, podAddresses: 27, maxPods: 29 },
    enis: [
      { eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.12', '10.0.0.11', '10.0.0.10'] },
      { eniId: 'eni-1', deviceIndex: 1, secondaryIps: ['10.0.1.10'] },
    ],
    allocations: [],
    cooling: [],
    ...over,
  };
}

describe('allocationStep (the fast path)', () => {
  it('annotate-first (grantExpired false): an address whose cooldown ends in this step is not handed out in it', () => {
    const st = recorded({ enis: [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.10'] }], cooling: [{ ip: '10.0.0.10', eniId: 'eni-0', releasedAt: new Date(T0.getTime() - 60_000).toISOString() }] });
    const held = allocationStep({ status: st, alive: () => true, wanting: pods(1), cooldownMs: 30_000, now: T0, grantExpired: false });
    expect(held.granted).toEqual([]);
    expect(held.expired.map((c) => c.ip)).toEqual(['10.0.0.10']);
    expect(held.changed).toBe(true); // the expiry is still written
    const now = allocationStep({ status: st, alive: () => true, wanting: pods(1), cooldownMs: 30_000, now: T0 });
    expect(now.granted.map((g) => g.ip)).toEqual(['10.0.0.10']);
  });

  it('hands out the lowest free addresses of the lowest device index, nothing when nobody waits', () => {
    const s = allocationStep({ status: recorded(), alive: () => true, wanting: pods(2), cooldownMs: 30_000, now: T0 });
    expect(s.granted.map((g) => [g.podName, g.ip, g.eniId, g.routeTable])).toEqual([
      ['p0', '10.0.0.10', 'eni-0', 254],
      ['p1', '10.0.0.11', 'eni-0', 254],
    ]);
    expect(s.changed).toBe(true);
    expect(allocationStep({ status: recorded(), alive: () => true, wanting: [], cooldownMs: 30_000, now: T0 }).changed).toBe(false);
  });

  it('never hands out an address an allocation or a cooldown holds; the rest wait', () => {
    const status = recorded({
      allocations: [{ ip: '10.0.0.10', eniId: 'eni-0', podNamespace: 'default', podName: 'old', podUid: 'old' }],
      cooling: [{ ip: '10.0.0.11', eniId: 'eni-0', releasedAt: new Date(T0.getTime() - 1_000).toISOString() }],
    });
    const s = allocationStep({ status, alive: () => true, wanting: pods(3), cooldownMs: 30_000, now: T0 });
    expect(s.granted.map((g) => g.ip)).toEqual(['10.0.0.12', '10.0.1.10']);
    expect(s.waiting.map((p) => p.name)).toEqual(['p2']);
    expect(new Set(s.allocations.map((a) => a.ip)).size).toBe(s.allocations.length);
    expect(s.nextExpiryMs).toBe(29_000);
  });

  it('releases the address of a pod that is gone into the cooldown; keeps one whose pod is unknown here', () => {
    const status = recorded({
      allocations: [
        { ip: '10.0.0.10', eniId: 'eni-0', podNamespace: 'default', podName: 'gone', podUid: 'gone' },
        { ip: '10.0.0.11', eniId: 'eni-0', podNamespace: 'default', podName: 'other-replica', podUid: 'unknown' },
      ],
    });
    const s = allocationStep({ status, alive: (a) => (a.podUid === 'gone' ? false : undefined), wanting: pods(1), cooldownMs: 30_000, now: T0 });
    expect(s.released.map((r) => r.ip)).toEqual(['10.0.0.10']);
    expect(s.allocations.map((a) => a.podUid).sort()).toEqual(['u0', 'unknown']);
    expect(s.granted[0]?.ip).toBe('10.0.0.12'); // not the address that just started cooling
    expect(s.cooling.map((c) => c.ip)).toEqual(['10.0.0.10']);
  });

  it('an address whose cooldown is over is free again', () => {
    const status = recorded({ enis: [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.10'] }], cooling: [{ ip: '10.0.0.10', eniId: 'eni-0', releasedAt: new Date(T0.getTime() - 31_000).toISOString() }] });
    const s = allocationStep({ status, alive: () => true, wanting: pods(1), cooldownMs: 30_000, now: T0 });
    expect(s.granted[0]?.ip).toBe('10.0.0.10');
    expect(s.cooling).toEqual([]);
  });

  it('two steps from the same record would pick the same address — which is why every write carries its resourceVersion', () => {
    const a = allocationStep({ status: recorded(), alive: () => true, wanting: pods(1, 0), cooldownMs: 0, now: T0 });
    const b = allocationStep({ status: recorded(), alive: () => true, wanting: pods(1, 1), cooldownMs: 0, now: T0 });
    expect(a.granted[0]?.ip).toBe(b.granted[0]?.ip);
    // The second writer, refused with 409, computes again from the first one's record: another address.
    const again = allocationStep({ status: { ...recorded(), allocations: a.allocations }, alive: () => true, wanting: pods(1, 1), cooldownMs: 0, now: T0 });
    expect(again.granted[0]?.ip).not.toBe(a.granted[0]?.ip);
  });
});

describe('the record: counts, plan, removal before release', () => {
  it('counts used, free and cooling per ENI and in the summary', () => {
    const s = withCounts(recorded({ allocations: [{ ip: '10.0.0.10', eniId: 'eni-0', podNamespace: 'd', podName: 'a', podUid: 'a' }], cooling: [{ ip: '10.0.1.10', eniId: 'eni-1', releasedAt: T0.toISOString() }] }));
    expect(s.summary).toEqual({ enis: 2, addresses: 4, used: 1, free: 2, cooling: 1 });
    expect(s.enis?.map((e) => [e.used, e.free])).toEqual([[1, 2], [0, 0]]);
  });

  it('the plan from the record asks for growth when pods wait on a dry pool', () => {
    const full = recorded({ allocations: ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.1.10'].map((ip, i) => ({ ip, eniId: 'x', podNamespace: 'd', podName: `${i}`, podUid: `${i}` })) });
    const plan = planFromStatus({ instanceId: 'i-1', instanceType: 'c5.large', warmEni: 1 }, full, 2, capacityOf({ maxEnis: 3, ipv4PerEni: 10 }));
    expect(plan.actions.map((a) => a.op)).toEqual(['assignIps', 'assignIps']);
    expect(plan.atLimit).toBe(false);
  });

  it('removal leaves an address an allocation took meanwhile in place, and keeps a busy ENI', () => {
    const status = recorded({ allocations: [{ ip: '10.0.1.10', eniId: 'eni-1', podNamespace: 'd', podName: 'a', podUid: 'a' }] });
    const r = withoutAddresses(status, [{ eniId: 'eni-0', ips: ['10.0.0.12'] }, { eniId: 'eni-1', ips: ['10.0.1.10'] }], ['eni-1'], true);
    expect(r.removed).toEqual([{ eniId: 'eni-0', ips: ['10.0.0.12'] }]);
    expect(r.removedEnis).toEqual([]);
    expect(r.left).toEqual(['10.0.0.12']);
    expect(r.status.enis?.find((e) => e.eniId === 'eni-0')?.secondaryIps).toEqual(['10.0.0.11', '10.0.0.10']);
    expect(r.status.enis?.find((e) => e.eniId === 'eni-1')?.secondaryIps).toEqual(['10.0.1.10']);
    const idle = withoutAddresses(recorded(), [], ['eni-1'], true);
    expect(idle.removedEnis).toEqual(['eni-1']);
    expect(idle.left).toEqual(['10.0.1.10']); // a whole ENI's addresses leave with it
    expect(idle.status.enis?.map((e) => e.eniId)).toEqual(['eni-0']);
  });
});

describe('AWS refuses growth (typed boundary: AwsError from the EC2 client)', () => {
  const err = (code: string, kind: 'terminal' | 'throttled') => new AwsError({ kind, code, message: `${code} (test)`, service: 'ec2', operation: 'CreateNetworkInterface' });

  it('maps subnet full and ENI/address limits to the pool condition, with a minute before the next try', () => {
    expect(poolFailure(err('InsufficientFreeAddressesInSubnet', 'terminal'))).toEqual({ reason: 'SubnetFull', requeueAfterMs: 60_000 });
    expect(poolFailure(err('AttachmentLimitExceeded', 'terminal'))).toEqual({ reason: 'EniLimitReached', requeueAfterMs: 60_000 });
    expect(poolFailure(err('PrivateIpAddressLimitExceeded', 'terminal'))).toEqual({ reason: 'EniLimitReached', requeueAfterMs: 60_000 });
    expect(poolFailure(err('NetworkInterfaceLimitExceeded', 'terminal'))).toEqual({ reason: 'EniLimitReached', requeueAfterMs: 60_000 });
    // RequestLimitExceeded is EC2's throttling, not a limit of the pool: the queue's backoff.
    expect(poolFailure(err('RequestLimitExceeded', 'throttled'))).toEqual({ reason: 'AwsThrottled' });
  });

  it('a CreateNetworkInterface refused for a full subnet stops the plan: nothing attached, no address recorded', async () => {
    const sent: string[] = [];
    const ec2 = {
      send: async (cmd: { constructor: { name: string } }) => {
        sent.push(cmd.constructor.name);
        if (cmd.constructor.name === 'CreateNetworkInterfaceCommand') throw err('InsufficientFreeAddressesInSubnet', 'terminal');
        return {};
      },
    };
    const clients = { ec2, cluster: 'int32bit-kubernetes', guard: new OwnershipGuard({ cluster: 'int32bit-kubernetes' }) } as unknown as AwsClients;
    // eni-0 is the instance's primary ENI (no owner tags: the guard's own rule judges it).
    const actual = { attached: [{ id: 'eni-0', attachment: { deviceIndex: 0 } }], foreign: [], detached: [], subnetCidrs: new Map() } as unknown as ActualPool;
    const ctx = { clients, owner: { kind: 'EniPool', name: 'n', uid: 'u' }, instanceId: 'i-0123456789abcdef0', subnetId: 'subnet-1', securityGroupIds: ['sg-1'] };
    await expect(applyPoolPlan(ctx, actual, [{ op: 'assignIps', eniId: 'eni-0', count: 9 }, { op: 'createEni', deviceIndex: 1, ipCount: 9 }, { op: 'createEni', deviceIndex: 2, ipCount: 9 }])).rejects.toMatchObject({
      code: 'InsufficientFreeAddressesInSubnet',
    });
    expect(sent).toEqual(['AssignPrivateIpAddressesCommand', 'CreateNetworkInterfaceCommand']);
  });
});

describe('a new ENI whose primary address another ENI holds (moto picks it at random)', () => {
  async function createOne(emulatorQuirks: boolean): Promise<{ sent: string[]; retried: string[] }> {
    const sent: string[] = [];
    const primaries = ['10.0.0.7', '10.0.0.20'];
    // A real client (core's describe paginates, which wants one) whose send is the boundary.
    const ec2 = new EC2Client({ region: 'us-east-1' });
    Object.assign(ec2, {
      send: async (cmd: { constructor: { name: string } }) => {
        const op = cmd.constructor.name.replace(/Command$/, '');
        sent.push(op);
        if (op === 'CreateNetworkInterface') {
          const n = sent.filter((x) => x === op).length;
          return { NetworkInterface: { NetworkInterfaceId: `eni-new${n}`, PrivateIpAddress: primaries[n - 1] } };
        }
        if (op === 'DescribeNetworkInterfaces') {
          // eni-held holds 10.0.0.7 as a pod's secondary address.
          const held = { NetworkInterfaceId: 'eni-held', SubnetId: 'subnet-1', PrivateIpAddress: '10.0.0.4', PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.4', Primary: true }, { PrivateIpAddress: '10.0.0.7', Primary: false }] };
          return { NetworkInterfaces: [held] };
        }
        if (op === 'AttachNetworkInterface') return { AttachmentId: 'eni-attach-1' };
        return {};
      },
    });
    const clients = { ec2, cluster: 'int32bit-kubernetes', guard: new OwnershipGuard({ cluster: 'int32bit-kubernetes' }) } as unknown as AwsClients;
    const actual = { attached: [], foreign: [], detached: [], subnetCidrs: new Map() } as unknown as ActualPool;
    const retried: string[] = [];
    const ctx = { clients, owner: { kind: 'EniPool', name: 'n', uid: 'u' }, instanceId: 'i-0123456789abcdef0', subnetId: 'subnet-1', securityGroupIds: ['sg-1'], onRetried: (d: string) => retried.push(d), emulatorQuirks };
    await applyPoolPlan(ctx, actual, [{ op: 'createEni', deviceIndex: 1, ipCount: 9 }]);
    return { sent, retried };
  }
  it('with --aws-emulator-quirks: is deleted before it is attached and created again; the pod\'s address stays where it is', async () => {
    const { sent, retried } = await createOne(true);
    expect(sent).toEqual([
      'CreateNetworkInterface',
      'DescribeNetworkInterfaces',
      'DeleteNetworkInterface',
      'CreateNetworkInterface',
      'DescribeNetworkInterfaces',
      'AttachNetworkInterface',
      'ModifyNetworkInterfaceAttribute',
    ]);
    expect(retried).toHaveLength(1);
    expect(retried[0]).toContain('10.0.0.7');
  });
  it('without it (real AWS, which never gives out a held address): no describe after the create', async () => {
    const { sent, retried } = await createOne(false);
    expect(sent).toEqual(['CreateNetworkInterface', 'AttachNetworkInterface', 'ModifyNetworkInterfaceAttribute']);
    expect(retried).toEqual([]);
  });
});

describe('PodClock (operator time)', () => {
  it('measures from the pod seen bound to served, tells warm from grown, and remembers deletions', () => {
    let t = 0;
    const clock = new PodClock(() => t);
    const pod = (uid: string, annotated = false): V1Pod => ({ metadata: { uid, annotations: annotated ? { 'network.kube-iaas.dev/ip': '10.0.0.1' } : {} }, spec: { nodeName: 'n', containers: [] } });
    clock.observe({ metadata: { uid: 'unbound' }, spec: { containers: [] } });
    clock.observe(pod('a'));
    clock.observe(pod('b'));
    clock.observe(pod('c', true)); // already has an address (a restart): not timed
    t = 12;
    clock.observe(pod('a')); // a later event does not restart the clock
    expect(clock.served('a')).toEqual({ ms: 12, path: 'warm' });
    clock.waited('b');
    t = 500;
    expect(clock.served('b')).toEqual({ ms: 500, path: 'grown' });
    expect(clock.served('c')).toBeUndefined();
    expect(clock.served('unbound')).toBeUndefined();
    clock.deleted(pod('d'));
    expect(clock.isGone('d')).toBe(true);
    expect(clock.isGone('a')).toBe(false);
  });
});
