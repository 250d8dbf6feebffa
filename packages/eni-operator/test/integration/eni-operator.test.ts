// The article's §4 on the testbed, end to end, with the operator running as its own process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { CreateNetworkInterfaceCommand, DeleteNetworkInterfaceCommand, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { EniPool } from '@kube-iaas/crds';
import { Informer, resources, type KubeObject } from '@kube-iaas/core/runtime';
import { describeNetworkInterfaces } from '@kube-iaas/core/aws';
import { eniTags, ownedByClusterFilters, ownedTags, taggedOwner, toTagSpecifications } from '@kube-iaas/core/tags';
import { readState } from '@kube-iaas/testbed';
import { ENI_POOL_RESOURCE, IP_ANNOTATION } from '../../src/constants.ts';
import { OperatorProcess, clients, inCidr, leaderArgs, waitFor, type Clients } from './harness.ts';

const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const NS = 'default';
const LABEL = 'eni-it';
const privateA = account.subnets.find((s) => s.role === 'private' && s.zone === account.zones[0])!;
const privateB = account.subnets.find((s) => s.role === 'private' && s.zone === account.zones[1])!;

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string } };

let c: Clients;
let op: OperatorProcess;

const nodeOf = async (instanceId: string) => (await c.kube.list<V1Node>(resources.Node)).items.find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`));
const pool = (name: string) => c.kube.get<EniPool>(ENI_POOL_RESOURCE, name);
const listPods = async () => (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` })).items;

/** A test pod pinned to `nodeName`, or left to the scheduler when no node is given. */
function pod(name: string, nodeName?: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: LABEL } },
    spec: { ...(nodeName ? { nodeSelector: { 'kubernetes.io/hostname': nodeName } } : {}), containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 },
  };
}

async function deleteTestPods(): Promise<void> {
  for (const p of await listPods()) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
  await waitFor('test pods gone', async () => (await listPods()).length === 0, 120_000);
}

/** The operator as deployed: leader election on, so it is the sole allocator (annotate first, record after). */
const startMain = (identity = 'it-main') => OperatorProcess.start([...leaderArgs(identity), '--cooldown=2s', '--leaked-eni-sweep-interval=1s', '--leaked-eni-grace=60s']);

/** Raises every pool to its instance type's limit (minimumIp) and waits for it; returns the Nodes. */
async function growPoolsToLimit(): Promise<V1Node[]> {
  const nodes = await Promise.all(account!.instanceIds.map(async (id) => (await nodeOf(id))!));
  for (const n of nodes) {
    const p = (await pool(n.metadata!.name!))!;
    await c.kube.patch(ENI_POOL_RESOURCE, { name: n.metadata!.name! }, { spec: { minimumIp: p.status!.capacity!.podAddresses } });
  }
  for (const n of nodes) {
    await waitFor(`pool ${n.metadata!.name} at its limit`, async () => {
      const p = await pool(n.metadata!.name!);
      return p?.status?.summary?.addresses === p?.status?.capacity?.podAddresses;
    }, 90_000, 500);
  }
  return nodes;
}

/** Takes the minimumIp off again and waits for every pool to shrink back to one ENI. */
async function restorePools(nodes: readonly V1Node[]): Promise<void> {
  for (const n of nodes) await c.kube.patch(ENI_POOL_RESOURCE, { name: n.metadata!.name! }, { spec: { minimumIp: null } });
  for (const n of nodes) {
    await waitFor(`pool ${n.metadata!.name} back to one ENI`, async () => (await pool(n.metadata!.name!))?.status?.summary?.enis === 1, 90_000, 500);
  }
}

/** Addresses handed out by mode, from an operator's /metrics. */
async function grants(o: OperatorProcess): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await o.metrics()).matchAll(/^kube_iaas_eni_grants_total\{mode="([^"]*)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/**
 * Watches the test pods while a test runs and notes every moment two live pods carry the same address (the
 * watch delivers one pod stream in resourceVersion order, so this is the API server's own sequence).
 */
async function watchSharedAddresses(): Promise<{ seen: string[]; stop: () => Promise<void> }> {
  const seen: string[] = [];
  const holder = new Map<string, string>(); // pod name → address
  const look = (p: V1Pod) => {
    const name = p.metadata!.name!;
    const ip = p.metadata?.annotations?.[IP_ANNOTATION];
    if (!ip || p.metadata?.deletionTimestamp) {
      holder.delete(name);
      return;
    }
    holder.set(name, ip);
    const others = [...holder].filter(([n, v]) => v === ip && n !== name).map(([n]) => n);
    if (others.length) seen.push(`${ip}: ${name} and ${others.join(', ')}`);
  };
  const watch = new Informer<V1Pod>(c.kube, resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` });
  watch.on({ add: look, update: look, delete: (p) => holder.delete(p.metadata!.name!) });
  await watch.start();
  await watch.waitForSync(30_000);
  return { seen, stop: () => watch.stop() };
}

/**
 * moto agrees: each address is a secondary address of exactly one ENI of the instances. moto may have put a
 * copy of an address on a new ENI (it picks addresses at random); the pool controller gives such copies back
 * on its next round, so this waits for that before it asserts.
 */
async function expectEachHeldOnce(ips: readonly string[], instanceIds: readonly string[]) {
  const holders = async () => {
    const enis = await describeNetworkInterfaces(c.ec2, { filters: [{ Name: 'attachment.instance-id', Values: [...instanceIds] }] });
    return new Map(ips.map((ip) => [ip, enis.filter((e) => e.privateIpAddresses.includes(ip) && e.primaryPrivateIpAddress !== ip)]));
  };
  await waitFor('each address on one ENI', async () => [...(await holders()).values()].every((h) => h.length === 1), 30_000, 500).catch(() => undefined);
  const final = await holders();
  for (const ip of ips) expect(final.get(ip), ip).toHaveLength(1);
  return final;
}

/** Every annotated pod's address is its allocation in its node's EniPool status, and the other way round. */
async function expectRecordMatchesAnnotations(): Promise<void> {
  const pods = (await listPods()).filter((p) => p.metadata?.annotations?.[IP_ANNOTATION]);
  const pools = (await c.kube.list<EniPool>(ENI_POOL_RESOURCE)).items;
  const recorded = new Map(pools.flatMap((p) => (p.status?.allocations ?? []).map((a) => [a.podUid, { ...a, node: p.metadata.name }] as const)));
  for (const p of pods) {
    const a = recorded.get(p.metadata!.uid!);
    expect(a, `allocation of ${p.metadata!.name}`).toBeDefined();
    expect(a).toMatchObject({ ip: p.metadata!.annotations![IP_ANNOTATION], node: p.spec!.nodeName });
  }
  const ours = [...recorded.values()].filter((a) => a.podName.startsWith(LABEL));
  expect(ours).toHaveLength(pods.length);
}

beforeAll(async () => {
  c = clients();
  await deleteTestPods();
  op = await startMain();
  // Pools left by an earlier run keep their spec: give them the short cooldown too (a hand edit).
  for (const id of account.instanceIds) {
    const node = await waitFor(`node of ${id}`, () => nodeOf(id));
    const p = await waitFor('EniPool', () => pool(node.metadata!.name!));
    if (p.spec.cooldownSeconds !== 2) await c.kube.patch(ENI_POOL_RESOURCE, { name: p.metadata.name! }, { spec: { cooldownSeconds: 2 } });
  }
});

afterAll(async () => {
  await deleteTestPods().catch(() => undefined);
  await op?.stop();
  if (op && op.child.exitCode !== 0) console.log(op.output.slice(-40).join('\n'));
});

describe('eni-operator on the testbed', () => {
  it('gives every Node an EniPool with the article\'s capacity and fills the warm pool at start', async () => {
    const expected: Record<string, [number, number, number]> = { 'c5.large': [27, 29, 9], 'c5.xlarge': [56, 58, 14] };
    for (const id of account.instanceIds) {
      const node = await waitFor(`node of ${id}`, () => nodeOf(id));
      const name = node.metadata!.name!;
      const type = node.metadata!.labels!['node.kubernetes.io/instance-type']!;
      const [addresses, maxPods, warm] = expected[type]!;
      // moto hands out secondary addresses at random and may repeat one another ENI of the shared
      // testbed already holds; the operator gives such a duplicate back and tops the pool up again,
      // so wait for the full warm target rather than the first non-empty pool.
      const p = await waitFor(`EniPool ${name} warm`, async () => {
        const x = await pool(name);
        const s = x?.status?.summary;
        return s && s.enis === 1 && s.used === 0 && s.free === warm && s.cooling === 0 ? x : undefined;
      }, 90_000);
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name, uid: node.metadata!.uid });
      expect(p.spec.instanceId).toBe(id);
      expect(p.status?.capacity).toMatchObject({ podAddresses: addresses, maxPods });
      expect(Number(node.status?.capacity?.pods)).toBe(maxPods);
      // warmEni=1: one ENI's worth of free addresses on the primary ENI, in the node's subnet.
      expect(p.status?.summary).toMatchObject({ enis: 1, free: warm, used: 0 });
      const primary = p.status!.enis![0]!;
      expect(primary.deviceIndex).toBe(0);
      for (const ip of primary.secondaryIps ?? []) expect(inCidr(ip, primary.subnetCidr!)).toBe(true);
    }
  });

  it('steady state: no mutating AWS call while nothing changes', async () => {
    const mutating = async () => {
      let n = 0;
      for (const m of (await op.metrics()).matchAll(/^kube_iaas_aws_api_calls_total\{([^}]*)\} (\d+)/gm)) {
        const operation = /operation="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '';
        if (!/^(Describe|Get|List)/.test(operation)) n += Number(m[2]);
      }
      return n;
    };
    // The start may still be finishing AWS calls behind a record that is already settled (an ENI
    // leaves the record before it is deleted): wait until the count stands still, then watch.
    let before = await mutating();
    for (;;) {
      await new Promise((r) => setTimeout(r, 3_000));
      const now = await mutating();
      if (now === before) break;
      before = now;
    }
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await mutating()).toBe(before);
  });

  it('30 pods on one c5.large: 27 get addresses from its subnet, the others wait with an Event; delete → pool shrinks after the cooldown', async () => {
    const node = (await nodeOf(account.instanceIds[0]!))!;
    const name = node.metadata!.name!;
    const shared = await watchSharedAddresses();
    for (let i = 0; i < 30; i++) await c.kube.create(resources.Pod, pod(`${LABEL}-${i}`, name));
    const annotated = await waitFor(
      '27 pods annotated',
      async () => {
        const a = (await listPods()).filter((p) => p.metadata?.annotations?.[IP_ANNOTATION]);
        return a.length >= 27 ? a : undefined;
      },
      120_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const pods = await listPods();
    const withIp = pods.filter((p) => p.metadata?.annotations?.[IP_ANNOTATION]);
    expect(annotated.length).toBe(27);
    expect(withIp).toHaveLength(27);
    const ips = withIp.map((p) => p.metadata!.annotations![IP_ANNOTATION]!);
    expect(new Set(ips).size).toBe(27);
    for (const ip of ips) expect(inCidr(ip, privateA.cidr)).toBe(true);
    // The node simulator uses the annotation as status.podIP.
    for (const p of withIp) if (p.status?.podIP) expect(p.status.podIP).toBe(p.metadata!.annotations![IP_ANNOTATION]);

    // moto agrees: every pod address is a secondary address of exactly one ENI of this instance.
    const enis = await describeNetworkInterfaces(c.ec2, { filters: [{ Name: 'attachment.instance-id', Values: [account.instanceIds[0]!] }] });
    expect(enis).toHaveLength(3);
    expect(enis.map((e) => e.attachment?.deviceIndex).sort()).toEqual([0, 1, 2]);
    await expectEachHeldOnce(ips, [account.instanceIds[0]!]);
    for (const e of enis) if (e.attachment?.deviceIndex !== 0) expect(taggedOwner(e.tags)).toMatchObject({ kind: 'EniPool', name });

    // The sole leader annotated first and recorded after: the record caught up with every annotation.
    expect((await grants(op))['annotate-first']).toBeGreaterThanOrEqual(27);
    expect((await grants(op))['record-first'] ?? 0).toBe(0);
    await waitFor('record caught up', async () => ((await pool(name))?.status?.allocations?.length ?? 0) === 27, 10_000, 200);
    await expectRecordMatchesAnnotations();
    const p = (await pool(name))!;
    expect(p.status?.summary).toMatchObject({ enis: 3, used: 27, free: 0 });
    expect(p.status?.allocations).toHaveLength(27);
    const a0 = p.status!.allocations![0]!;
    expect(a0.routeTable).toBe(a0.deviceIndex === 0 ? 254 : (a0.deviceIndex ?? 0) + 1);

    // Pods the scheduler bound but the pool cannot serve get a Warning Event (max-pods 29 leaves one Pending).
    const waiting = pods.filter((p) => p.spec?.nodeName && !p.metadata?.annotations?.[IP_ANNOTATION]);
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    await waitFor('NoAddressAvailable events', async () => {
      const evs = (await c.kube.list<Ev>(resources.Event, { namespace: NS })).items.filter((e) => e.reason === 'NoAddressAvailable' && e.type === 'Warning');
      return waiting.every((w) => evs.some((e) => e.involvedObject?.name === w.metadata?.name));
    });

    // Delete 10 pods: the waiting ones get addresses once the cooldown is over.
    for (const p of withIp.slice(0, 10)) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
    await waitFor('waiting pods served', async () => {
      const now = await listPods();
      return now.filter((x) => x.spec?.nodeName).every((x) => x.metadata?.annotations?.[IP_ANNOTATION]);
    }, 60_000, 500);
    const after = (await listPods()).map((x) => x.metadata!.annotations![IP_ANNOTATION] ?? '').filter(Boolean);
    expect(new Set(after).size).toBe(after.length);
    await shared.stop();
    expect(shared.seen).toEqual([]);

    // Delete the rest: after the cooldown the pool shrinks back to its warm target (1 ENI, 9 free).
    await deleteTestPods();
    const shrunk = await waitFor('pool shrunk', async () => {
      const x = await pool(name);
      return x?.status?.summary?.enis === 1 && x.status.summary.used === 0 && x.status.summary.cooling === 0 ? x : undefined;
    }, 90_000, 500);
    expect(shrunk.status?.summary?.free).toBe(9);
    expect(shrunk.status?.allocations ?? []).toEqual([]);
    // An ENI leaves the record before it is detached and deleted in AWS: moto follows within moments.
    const attached = () => describeNetworkInterfaces(c.ec2, { filters: [{ Name: 'attachment.instance-id', Values: [account.instanceIds[0]!] }] });
    await waitFor('moto down to the primary ENI', async () => (await attached()).length === 1, 15_000, 250).catch(() => undefined);
    expect(await attached()).toHaveLength(1);
  });

  it('200 pods at once across the nodes, two operator replicas: no address handed out twice (moto agrees)', async () => {
    // Grow every pool to its limit first, so both replicas only allocate (AWS changes are the leader's job).
    const nodes = await growPoolsToLimit();
    // Two replicas without leader election, both allocating: the optimistic status write is what
    // keeps them from giving one address twice (record first, then annotate).
    await op.stop();
    const first = await OperatorProcess.start(['--leaked-eni-sweep-interval=0', '--cooldown=2s']);
    const second = await OperatorProcess.start(['--leaked-eni-sweep-interval=0', '--cooldown=2s']);
    const shared = await watchSharedAddresses();
    try {
      const started = Date.now();
      const all = Array.from({ length: 200 }, (_, i) => pod(`${LABEL}-burst-${i}`));
      await Promise.all(all.map((p) => c.kube.create(resources.Pod, p)));
      // 27 + 56 + 27 addresses; the scheduler binds up to max-pods (29 + 58 + 29).
      const served = await waitFor('110 pods served', async () => {
        const a = (await listPods()).filter((p) => p.metadata?.annotations?.[IP_ANNOTATION]);
        return a.length >= 110 ? a : undefined;
      }, 180_000, 1_000);
      const tookMs = Date.now() - started;
      await new Promise((r) => setTimeout(r, 2_000));
      const everything = await listPods();
      const pods = everything.filter((p) => p.metadata?.annotations?.[IP_ANNOTATION]);
      if (pods.length !== 110) console.log(served.map((p) => `${p.metadata!.name}=${p.metadata!.annotations![IP_ANNOTATION]}`).filter((x) => !pods.some((p) => x.startsWith(`${p.metadata!.name}=`))), everything.length);
      expect(served.length).toBe(110);
      expect(pods).toHaveLength(110);
      const ips = pods.map((p) => p.metadata!.annotations![IP_ANNOTATION]!);
      expect(new Set(ips).size).toBe(110);
      const held = await expectEachHeldOnce(ips, account.instanceIds);
      for (const p of pods) {
        const node = nodes.find((n) => n.metadata!.name === p.spec!.nodeName)!;
        const instanceId = node.spec!.providerID!.split('/').pop();
        expect(held.get(p.metadata!.annotations![IP_ANNOTATION]!)?.[0]?.attachment?.instanceId).toBe(instanceId);
      }
      for (const o of [first, second]) expect((await grants(o))['annotate-first'] ?? 0).toBe(0);
      expect(shared.seen).toEqual([]);
      await expectRecordMatchesAnnotations();
      const conflicts = [first, second].map(async (o) => Number(/^kube_iaas_eni_status_conflicts_total (\d+)/m.exec(await o.metrics())?.[1] ?? 0));
      console.log(`200 pods: 110 served in ${tookMs} ms; status write conflicts (409) per replica: ${(await Promise.all(conflicts)).join(', ')}`);
    } finally {
      await shared.stop();
      await Promise.all([first.stop(), second.stop()]);
      op = await startMain();
      await deleteTestPods();
      await restorePools(nodes);
    }
  });

  it('leader killed (kill -9) in the middle of a burst: the standby takes over and serves the rest, the record matches every annotation, no address twice', async () => {
    // The pools are grown first: this test is about allocation across a failover. A kill in the middle
    // of pool growth is recovery.test.ts's; here it left one of moto's repeated addresses on two ENIs
    // in one CI run out of five (see the package README, Not done yet).
    const nodes = await growPoolsToLimit();
    const standby = await startMain('it-standby');
    const shared = await watchSharedAddresses();
    try {
      // A first wave the leader serves (and is killed while serving), then a second wave created after
      // the kill, which only the standby can serve.
      const all = Array.from({ length: 40 }, (_, i) => pod(`${LABEL}-failover-${i}`));
      await Promise.all(all.slice(0, 10).map((p) => c.kube.create(resources.Pod, p)));
      await waitFor('first pods annotated', async () => (await listPods()).filter((p) => p.metadata?.annotations?.[IP_ANNOTATION]).length >= 5, 60_000, 20);
      await op.stop('SIGKILL');
      const killedAt = Date.now();
      await Promise.all(all.slice(10).map((p) => c.kube.create(resources.Pod, p)));
      await waitFor('every bound pod served', async () => {
        const now = await listPods();
        return now.length === 40 && now.every((p) => p.spec?.nodeName && p.metadata?.annotations?.[IP_ANNOTATION]);
      }, 120_000, 500);
      const byStandby = await grants(standby);
      console.log(`failover: every pod served ${Date.now() - killedAt} ms after the leader was killed; the standby handed out ${JSON.stringify(byStandby)}`);
      expect(byStandby['annotate-first']).toBeGreaterThanOrEqual(30);
      const pods = await listPods();
      const ips = pods.map((p) => p.metadata!.annotations![IP_ANNOTATION]!);
      expect(new Set(ips).size).toBe(40);
      await waitFor('record caught up', async () => {
        const pools = (await c.kube.list<EniPool>(ENI_POOL_RESOURCE)).items;
        return pools.flatMap((p) => p.status?.allocations ?? []).filter((a) => a.podName.startsWith(`${LABEL}-failover`)).length === 40;
      }, 30_000, 500);
      await expectRecordMatchesAnnotations();
      await expectEachHeldOnce(ips, account.instanceIds);
      expect(shared.seen).toEqual([]);
    } finally {
      await shared.stop();
      op = standby;
      await deleteTestPods();
      await restorePools(nodes);
    }
  });

  it('a pod annotated by a leader that died before recording it keeps its address; a second pod claiming the same address gets a new one', async () => {
    const node = (await nodeOf(account.instanceIds[0]!))!;
    const name = node.metadata!.name!;
    // The earlier tests' addresses have cooled down and are back in the pool.
    await waitFor('pool settled', async () => {
      const s = (await pool(name))?.status?.summary;
      return s?.used === 0 && s.cooling === 0 && (s.free ?? 0) > 0;
    }, 60_000, 500);
    await op.stop();
    const before = (await pool(name))!;
    const held = new Set([...(before.status?.allocations ?? []).map((a) => a.ip), ...(before.status?.cooling ?? []).map((x) => x.ip)]);
    const eni = before.status!.enis![0]!;
    const ip = (eni.secondaryIps ?? []).find((x) => !held.has(x))!;
    expect(ip).toBeDefined();
    const annotations = { [IP_ANNOTATION]: ip, 'network.kube-iaas.dev/eni': eni.eniId, 'network.kube-iaas.dev/device-index': String(eni.deviceIndex), 'network.kube-iaas.dev/route-table': '254' };
    const orphan = pod(`${LABEL}-orphan`, name);
    const claimant = pod(`${LABEL}-claimant`, name);
    await c.kube.create(resources.Pod, { ...orphan, metadata: { ...orphan.metadata, annotations } });
    await waitFor('orphan bound', async () => (await listPods()).some((p) => p.metadata?.name === orphan.metadata!.name && p.spec?.nodeName));
    await new Promise((r) => setTimeout(r, 1_100)); // creation timestamps are in seconds: the orphan is older
    await c.kube.create(resources.Pod, { ...claimant, metadata: { ...claimant.metadata, annotations } });
    await waitFor('claimant bound', async () => (await listPods()).some((p) => p.metadata?.name === claimant.metadata!.name && p.spec?.nodeName));
    op = await startMain();
    try {
      const recorded = await waitFor('both recorded', async () => {
        const a = (await pool(name))?.status?.allocations ?? [];
        const o = a.find((x) => x.podName === orphan.metadata!.name);
        const k = a.find((x) => x.podName === claimant.metadata!.name);
        return o && k ? { o, k } : undefined;
      }, 30_000, 200);
      // The older pod keeps the address it was annotated with; the other is given a new one.
      expect(recorded.o.ip).toBe(ip);
      expect(recorded.k.ip).not.toBe(ip);
      await waitFor('claimant re-annotated', async () => (await listPods()).find((p) => p.metadata?.name === claimant.metadata!.name)?.metadata?.annotations?.[IP_ANNOTATION] === recorded.k.ip, 30_000, 200);
      expect((await listPods()).find((p) => p.metadata?.name === orphan.metadata!.name)?.metadata?.annotations?.[IP_ANNOTATION]).toBe(ip);
      await expectRecordMatchesAnnotations();
    } finally {
      await deleteTestPods();
    }
  });

  it('a leaked ENI (ours, available, older than the grace period, no pool lists it) is deleted; a young one is kept', async () => {
    const make = async (createdAt: Date) => {
      const tags = ownedTags('int32bit-kubernetes', { kind: 'EniPool', name: 'ghost-node', uid: 'ghost-uid' }, eniTags({ instanceId: 'i-0000000000000dead', createdAt }));
      const r = await c.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: privateA.id, TagSpecifications: toTagSpecifications('network-interface', tags) }));
      return r.NetworkInterface!.NetworkInterfaceId!;
    };
    const old = await make(new Date(Date.now() - 3_600_000));
    const young = await make(new Date());
    try {
      await waitFor('leaked ENI deleted', async () => (await describeNetworkInterfaces(c.ec2, { filters: [{ Name: 'network-interface-id', Values: [old] }] })).length === 0, 30_000, 500);
      expect(await describeNetworkInterfaces(c.ec2, { filters: [{ Name: 'network-interface-id', Values: [young] }] })).toHaveLength(1);
      expect(await op.metrics()).toMatch(/kube_iaas_eni_leaked_enis_deleted_total [1-9]/);
    } finally {
      await c.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: young })).catch(() => undefined);
    }
  });

  it('a hand-applied EniPool with an unknown instance type gets a condition and an Event, and no AWS change', async () => {
    const name = 'eni-it-hand-made';
    await c.kube.delete(ENI_POOL_RESOURCE, { name }).catch(() => undefined);
    await c.kube.create(ENI_POOL_RESOURCE, { apiVersion: ENI_POOL_RESOURCE.apiVersion, kind: 'EniPool', metadata: { name }, spec: { instanceId: account.instanceIds[2]!, instanceType: 'c5.mega' } });
    try {
      const p = await waitFor('UnknownInstanceType condition', async () => {
        const x = await pool(name);
        return x?.status?.conditions?.some((k) => k.type === 'Synced' && k.status === 'False' && k.reason === 'UnknownInstanceType') ? x : undefined;
      }, 30_000, 500);
      expect(p.status?.conditions?.find((k) => k.type === 'Synced')?.message).toMatch(/spec.instanceType/);
      await waitFor('UnknownInstanceType Warning Event', async () =>
        (await c.kube.list<Ev>(resources.Event, { namespace: NS })).items.some((e) => e.reason === 'UnknownInstanceType' && e.type === 'Warning' && e.involvedObject?.name === name),
      );
      const ours = (await describeNetworkInterfaces(c.ec2, { filters: ownedByClusterFilters('int32bit-kubernetes') })).filter((e) => taggedOwner(e.tags)?.name === name);
      expect(ours).toEqual([]);
    } finally {
      await c.kube.delete(ENI_POOL_RESOURCE, { name });
      await waitFor('hand-made pool gone', async () => !(await pool(name)), 30_000, 500);
    }
  });

  it('a node removed: its EniPool and its ENIs are gone', async () => {
    const run = await c.ec2.send(
      new RunInstancesCommand({
        LaunchTemplate: { LaunchTemplateName: account.launchTemplateName },
        MinCount: 1,
        MaxCount: 1,
        SubnetId: privateB.id,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'KubernetesCluster', Value: 'int32bit-kubernetes' }, { Key: 'kubernetes.io/cluster/int32bit-kubernetes', Value: 'owned' }, { Key: 'kube-iaas.dev/testbed', Value: 'eni-it' }] }],
      }),
    );
    const id = run.Instances![0]!.InstanceId!;
    try {
      const node = await waitFor('new node', () => nodeOf(id), 60_000);
      const name = node.metadata!.name!;
      // Two pods: the second ENI gets created (warmEni=1 keeps one spare ENI's worth).
      for (let i = 0; i < 2; i++) await c.kube.create(resources.Pod, pod(`${LABEL}-new-${i}`, name));
      await waitFor('second ENI', async () => ((await pool(name))?.status?.summary?.enis ?? 0) >= 2, 60_000);
      const ours = (await describeNetworkInterfaces(c.ec2, { filters: ownedByClusterFilters('int32bit-kubernetes') })).filter((e) => taggedOwner(e.tags)?.name === name);
      expect(ours.length).toBeGreaterThanOrEqual(1);
      for (const e of ours) expect(inCidr(e.primaryPrivateIpAddress!, privateB.cidr)).toBe(true);
      await deleteTestPods();
      await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      await waitFor('EniPool gone', async () => !(await pool(name)), 90_000, 500);
      const still = (await describeNetworkInterfaces(c.ec2, { filters: ownedByClusterFilters('int32bit-kubernetes') })).filter((e) => taggedOwner(e.tags)?.name === name);
      expect(still).toEqual([]);
    } finally {
      await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })).catch(() => undefined);
    }
  });
});
