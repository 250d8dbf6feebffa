import { describe, expect, it } from 'vitest';
import { allocate, awsReservedAddress, capacityOf, dedupeEnis, desiredAddresses, expireCooling, freeAddresses, nextDeviceIndex, planPool, release, routeTableOf, type PoolEni, type PoolInput } from '../../src/plan/index.ts';

const C5_LARGE = { maxEnis: 3, ipv4PerEni: 10 };
const C5_XLARGE = { maxEnis: 4, ipv4PerEni: 15 };

function ips(prefix: string, from: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}.${from + i}`);
}

function input(over: Partial<PoolInput> = {}): PoolInput {
  return {
    enis: [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: [] }],
    used: new Set(),
    cooling: new Set(),
    waiting: 0,
    capacity: capacityOf(C5_LARGE),
    targets: { warmEni: 1, shrinkPolicy: 'Release' },
    ...over,
  };
}

describe('capacity (the article\'s numbers)', () => {
  it('c5.large: 3 × 10 → 27 pod addresses, max-pods 29', () => {
    expect(capacityOf(C5_LARGE)).toEqual({ maxEnis: 3, ipsPerEni: 10, podAddresses: 27, maxPods: 29, limit: 27 });
  });
  it('c5.xlarge: 4 × 15 → 56 pod addresses, max-pods 58', () => {
    expect(capacityOf(C5_XLARGE)).toMatchObject({ podAddresses: 56, maxPods: 58, limit: 56 });
  });
  it('maxPodAddresses only lowers the limit', () => {
    expect(capacityOf(C5_LARGE, 10).limit).toBe(10);
    expect(capacityOf(C5_LARGE, 100).limit).toBe(27);
  });
});

describe('planPool: growth', () => {
  it('an empty c5.large with warmEni=1 fills the primary ENI with 9 addresses', () => {
    const p = planPool(input());
    expect(p.desired).toBe(9);
    expect(p.actions).toEqual([{ op: 'assignIps', eniId: 'eni-0', count: 9 }]);
  });
  it('one address in use → a second full ENI at device index 1', () => {
    const a = ips('10.0.0', 10, 9);
    const p = planPool(input({ enis: [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: a }], used: new Set([a[0]!]) }));
    expect(p.desired).toBe(18);
    expect(p.actions).toEqual([{ op: 'createEni', deviceIndex: 1, ipCount: 9 }]);
  });
  it('picks the smallest free device index', () => {
    const enis: PoolEni[] = [
      { eniId: 'eni-0', deviceIndex: 0, secondaryIps: ips('10.0.0', 10, 9) },
      { eniId: 'eni-2', deviceIndex: 2, secondaryIps: ips('10.0.1', 10, 9) },
    ];
    const used = new Set([...enis[0]!.secondaryIps, ...enis[1]!.secondaryIps.slice(0, 1)]);
    expect(planPool(input({ enis, used })).actions).toEqual([{ op: 'createEni', deviceIndex: 1, ipCount: 9 }]);
    expect(nextDeviceIndex([0, 2], 3)).toBe(1);
    expect(nextDeviceIndex([0, 1, 2], 3)).toBeUndefined();
  });
  it('never past the instance type: 30 pods on a c5.large → 27 addresses, 3 ENIs, at limit', () => {
    const p = planPool(input({ waiting: 30 }));
    expect(p.desired).toBe(27);
    expect(p.atLimit).toBe(true);
    expect(p.actions).toEqual([
      { op: 'assignIps', eniId: 'eni-0', count: 9 },
      { op: 'createEni', deviceIndex: 1, ipCount: 9 },
      { op: 'createEni', deviceIndex: 2, ipCount: 9 },
    ]);
  });
  it('c5.xlarge at full demand → 4 ENIs × 14 = 56', () => {
    const p = planPool(input({ capacity: capacityOf(C5_XLARGE), waiting: 100 }));
    expect(p.desired).toBe(56);
    const created = p.actions.filter((a) => a.op === 'createEni');
    expect(created.map((a) => (a.op === 'createEni' ? a.deviceIndex : -1))).toEqual([1, 2, 3]);
  });
  it('warmIp counts single addresses; minimumIp is a floor', () => {
    expect(desiredAddresses(input({ targets: { warmEni: 1, warmIp: 3, shrinkPolicy: 'Release' }, used: new Set(['a', 'b']) })).desired).toBe(5);
    expect(desiredAddresses(input({ targets: { warmEni: 1, warmIp: 1, minimumIp: 12, shrinkPolicy: 'Release' } })).desired).toBe(12);
    const p = planPool(input({ targets: { warmEni: 0, minimumIp: 12, shrinkPolicy: 'Release' } }));
    expect(p.actions).toEqual([
      { op: 'assignIps', eniId: 'eni-0', count: 9 },
      { op: 'createEni', deviceIndex: 1, ipCount: 3 },
    ]);
  });
  it('cooling addresses count as held, so the warm target stays available', () => {
    const a = ips('10.0.0', 10, 9);
    const p = planPool(input({ enis: [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: a }], cooling: new Set([a[0]!]) }));
    expect(p.actions).toEqual([{ op: 'createEni', deviceIndex: 1, ipCount: 9 }]);
  });
});

describe('planPool: shrinking', () => {
  const full: PoolEni[] = [
    { eniId: 'eni-0', deviceIndex: 0, secondaryIps: ips('10.0.0', 10, 9) },
    { eniId: 'eni-1', deviceIndex: 1, secondaryIps: ips('10.0.1', 10, 9) },
    { eniId: 'eni-2', deviceIndex: 2, secondaryIps: ips('10.0.2', 10, 9) },
  ];
  it('an idle pool releases whole secondary ENIs down to warmEni, never the primary', () => {
    const p = planPool(input({ enis: full }));
    expect(p.actions).toEqual([
      { op: 'deleteEni', eniId: 'eni-2' },
      { op: 'deleteEni', eniId: 'eni-1' },
    ]);
  });
  it('an ENI holding a used or cooling address is kept', () => {
    const p = planPool(input({ enis: full, used: new Set(['10.0.2.10']), cooling: new Set(['10.0.1.12']) }));
    expect(p.actions).toEqual([]);
  });
  it('shrinkPolicy Keep never releases', () => {
    expect(planPool(input({ enis: full, targets: { warmEni: 1, shrinkPolicy: 'Keep' } })).actions).toEqual([]);
  });
  it('warmIp releases single free addresses, never used or cooling ones', () => {
    const enis: PoolEni[] = [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: ips('10.0.0', 10, 9) }];
    const used = new Set(['10.0.0.18']);
    const cooling = new Set(['10.0.0.17']);
    const p = planPool(input({ enis, used, cooling, targets: { warmEni: 1, warmIp: 2, shrinkPolicy: 'Release' } }));
    expect(p.desired).toBe(4);
    expect(p.actions).toHaveLength(1);
    const a = p.actions[0]!;
    expect(a.op).toBe('unassignIps');
    if (a.op === 'unassignIps') {
      expect(a.ips).toHaveLength(5);
      expect(a.ips).not.toContain('10.0.0.18');
      expect(a.ips).not.toContain('10.0.0.17');
    }
  });
  it('steady state: nothing to do', () => {
    const a = ips('10.0.0', 10, 9);
    expect(planPool(input({ enis: [{ eniId: 'eni-0', deviceIndex: 0, secondaryIps: a }] })).actions).toEqual([]);
  });
});

describe('allocation', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const enis: PoolEni[] = [
    { eniId: 'eni-1', deviceIndex: 1, secondaryIps: ['10.0.1.5', '10.0.1.4'] },
    { eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.9', '10.0.0.10'] },
  ];
  const pod = (n: number) => ({ namespace: 'default', name: `p${n}`, uid: `u${n}` });

  it('hands out the lowest device index and address first, with the route table', () => {
    const r = allocate(enis, [], [], [pod(1), pod(2), pod(3)], now);
    expect(r.granted.map((g) => [g.ip, g.eniId, g.routeTable])).toEqual([
      ['10.0.0.9', 'eni-0', 254],
      ['10.0.0.10', 'eni-0', 254],
      ['10.0.1.4', 'eni-1', 2],
    ]);
    expect(routeTableOf(2)).toBe(3);
  });
  it('never gives an address twice, skips pods that already hold one, and reports waiting pods', () => {
    const first = allocate(enis, [], [], [pod(1), pod(2)], now).granted;
    const r = allocate(enis, first, [{ ip: '10.0.1.4', eniId: 'eni-1', releasedAt: now.toISOString() }], [pod(1), pod(3), pod(4), pod(5)], now);
    expect(r.granted.map((g) => g.ip)).toEqual(['10.0.1.5']);
    expect(r.waiting.map((p) => p.uid)).toEqual(['u4', 'u5']);
    const all = [...first, ...r.granted].map((g) => g.ip);
    expect(new Set(all).size).toBe(all.length);
  });
  it('a burst of 200 pods on 27 addresses: 27 distinct grants', () => {
    const big: PoolEni[] = [0, 1, 2].map((d) => ({ eniId: `eni-${d}`, deviceIndex: d, secondaryIps: ips(`10.0.${d}`, 10, 9) }));
    const r = allocate(big, [], [], Array.from({ length: 200 }, (_, i) => pod(i)), now);
    expect(r.granted).toHaveLength(27);
    expect(new Set(r.granted.map((g) => g.ip)).size).toBe(27);
    expect(r.waiting).toHaveLength(173);
  });
  it('release moves addresses of gone pods to cooling; cooldown expiry frees them', () => {
    const granted = allocate(enis, [], [], [pod(1), pod(2)], now).granted;
    const { kept, released } = release(granted, (a) => a.podUid === 'u1', now);
    expect(kept.map((a) => a.podUid)).toEqual(['u1']);
    expect(released).toEqual([{ ip: '10.0.0.10', eniId: 'eni-0', releasedAt: now.toISOString() }]);
    expect(freeAddresses(enis, kept, released).map((f) => f.ip)).not.toContain('10.0.0.10');
    const early = expireCooling(released, 30_000, new Date(now.getTime() + 10_000));
    expect(early.expired).toEqual([]);
    expect(early.nextExpiryMs).toBe(20_000);
    const late = expireCooling(released, 30_000, new Date(now.getTime() + 30_000));
    expect(late.cooling).toEqual([]);
    expect(late.expired).toHaveLength(1);
  });
});

describe('an address on two ENIs (moto repeats random addresses)', () => {
  const enis: PoolEni[] = [
    { eniId: 'eni-1', deviceIndex: 1, secondaryIps: ['10.0.0.7', '10.0.0.8'] },
    { eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.7', '10.0.0.9'] },
  ];
  it('the lowest device index keeps it; the copy is returned for release', () => {
    const d = dedupeEnis(enis);
    expect(d.enis.map((e) => e.secondaryIps)).toEqual([['10.0.0.7', '10.0.0.9'], ['10.0.0.8']]);
    expect(d.duplicates).toEqual([{ eniId: 'eni-1', ips: ['10.0.0.7'] }]);
  });
  it('a secondary equal to an ENI\'s primary address (the node\'s own IP) is never planned with, and not released', () => {
    const d = dedupeEnis([{ eniId: 'eni-2', deviceIndex: 2, secondaryIps: ['10.0.0.4', '10.0.0.5'] }], ['10.0.0.4']);
    expect(d.enis.map((e) => e.secondaryIps)).toEqual([['10.0.0.5']]);
    expect(d.duplicates).toEqual([]);
  });
  it('an address a pod holds that no ENI lists any more still counts: a full c5.large does not grow a 28th', () => {
    const full = [ips('10.0.0', 10, 9), ips('10.0.1', 10, 9), ips('10.0.2', 10, 8)];
    const enis3 = full.map((a, i) => ({ eniId: `eni-${i}`, deviceIndex: i, secondaryIps: a }));
    const used = new Set([...full.flat(), '10.0.9.9']); // 26 listed + 1 stranded = 27 held
    const p = planPool(input({ enis: enis3, used, waiting: 1 }));
    expect(p.total).toBe(27);
    expect(p.actions).toEqual([]);
    expect(p.atLimit).toBe(true);
  });
  it('allocation never hands it out twice even without deduplication', () => {
    const r = allocate(enis, [], [], [1, 2, 3, 4].map((n) => ({ namespace: 'd', name: `p${n}`, uid: `u${n}` })), new Date());
    expect(r.granted.map((g) => g.ip).sort()).toEqual(['10.0.0.7', '10.0.0.8', '10.0.0.9']);
    expect(r.waiting).toHaveLength(1);
  });
});

describe('AWS-reserved addresses (moto hands them out)', () => {
  it('are the network address, + 1 … + 3 and the last of the subnet, and are released like repeated ones', () => {
    expect(['192.168.193.0', '192.168.193.1', '192.168.193.2', '192.168.193.3', '192.168.193.255'].map((ip) => awsReservedAddress(ip, '192.168.193.0/24'))).toEqual([true, true, true, true, true]);
    expect(['192.168.193.4', '192.168.193.254', '192.168.195.1'].map((ip) => awsReservedAddress(ip, '192.168.193.0/24'))).toEqual([false, false, false]);
    const r = dedupeEnis([{ eniId: 'eni-a', deviceIndex: 0, secondaryIps: ['192.168.193.1', '192.168.193.10'] }], [], new Set(['192.168.193.1']));
    expect(r.enis[0]!.secondaryIps).toEqual(['192.168.193.10']);
    expect(r.duplicates).toEqual([{ eniId: 'eni-a', ips: ['192.168.193.1'] }]);
  });
});
