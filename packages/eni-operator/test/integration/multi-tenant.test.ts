// Issue 22, defect 1: a hand-written EniPool naming the instance of a Node that has pods. One pool per
// instance: the Node's pool keeps it; the other gets a Conflict condition naming it and changes nothing
// in AWS, neither while it exists nor when it is deleted. The operator runs as its own process; the
// checks read moto and the API server directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { RunInstancesCommand, TerminateInstancesCommand, UnassignPrivateIpAddressesCommand } from '@aws-sdk/client-ec2';
import type { EniPool } from '@kube-iaas/crds';
import { describeNetworkInterfaces } from '@kube-iaas/core/aws';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { ENI_POOL_RESOURCE, IP_ANNOTATION } from '../../src/constants.ts';
import { OperatorProcess, clients, leaderArgs, waitFor, type Clients } from './harness.ts';

const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const NS = 'default';
const LABEL = 'eni-it-tenant';
const privateA = account.subnets.find((s) => s.role === 'private' && s.zone === account.zones[0])!;
// The c5.xlarge node, as in the issue.
const VICTIM_INSTANCE = account.instanceIds[1]!;

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string } };

let c: Clients;
let op: OperatorProcess;
let victim = '';

const nodeOf = async (instanceId: string) => (await c.kube.list<V1Node>(resources.Node)).items.find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`));
const pool = (name: string) => c.kube.get<EniPool>(ENI_POOL_RESOURCE, name);
const listPods = async () => (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` })).items;
const condition = (p: EniPool | undefined, type: string) => p?.status?.conditions?.find((k) => k.type === type);

/** Every ENI attached to the instance in moto, with its addresses: `eni-… → sorted addresses`. */
async function inMoto(instanceId: string): Promise<Record<string, string[]>> {
  const enis = await describeNetworkInterfaces(c.ec2, { filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] });
  return Object.fromEntries(enis.map((e) => [e.id, [...e.privateIpAddresses].sort()]));
}

/** Each pod's address annotation. */
async function podAddresses(): Promise<Record<string, string>> {
  return Object.fromEntries((await listPods()).map((p) => [p.metadata!.name!, p.metadata?.annotations?.[IP_ANNOTATION] ?? '']));
}

/** moto's view of the instance once it stands still (the pool controller may still be giving back one of moto's repeated addresses). */
async function settled(instanceId: string): Promise<Record<string, string[]>> {
  let before = await inMoto(instanceId);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await inMoto(instanceId);
    if (JSON.stringify(now) === JSON.stringify(before)) return now;
    before = now;
  }
  return before;
}

/** The victim's ENIs, addresses and pods are exactly as they were, and every pod address is still in moto. */
async function expectUntouched(enis: Record<string, string[]>, pods: Record<string, string>, poolEnis: string[]): Promise<void> {
  const now = await inMoto(VICTIM_INSTANCE);
  expect(now).toEqual(enis);
  expect(await podAddresses()).toEqual(pods);
  const held = new Set(Object.values(now).flat());
  for (const [name, ip] of Object.entries(pods)) expect(held.has(ip), `${name}'s address ${ip} still assigned`).toBe(true);
  const p = (await pool(victim))!;
  expect((p.status?.enis ?? []).map((e) => e.eniId).sort()).toEqual(poolEnis);
  expect(condition(p, 'Conflict')).toBeUndefined();
}

/** Waits for the Conflict condition (or a while, so the old code's damage has happened), then returns the pool. */
async function afterConflict(name: string): Promise<EniPool | undefined> {
  await waitFor(`Conflict on ${name}`, async () => condition(await pool(name), 'Conflict')?.status === 'True', 20_000, 250).catch(() => undefined);
  // Anything the pool would still do happens within a pool round: give it a few.
  await new Promise((r) => setTimeout(r, 4_000));
  return pool(name);
}

async function deletePool(name: string): Promise<void> {
  await c.kube.delete(ENI_POOL_RESOURCE, { name }).catch(() => undefined);
  await waitFor(`${name} gone`, async () => !(await pool(name)), 30_000, 250);
}

let snapshot: { enis: Record<string, string[]>; pods: Record<string, string>; poolEnis: string[] };

beforeAll(async () => {
  c = clients();
  for (const name of ['evil-pool', 'evil-pool-primary', 'eni-it-roaming']) await deletePool(name).catch(() => undefined);
  op = await OperatorProcess.start([...leaderArgs('it-tenant'), '--cooldown=2s', '--leaked-eni-sweep-interval=0']);
  const node = await waitFor('victim node', () => nodeOf(VICTIM_INSTANCE));
  victim = node.metadata!.name!;
  await waitFor('victim pool recorded', async () => (await pool(victim))?.status?.capacity?.podAddresses, 60_000, 500);
  // Four running pods holding addresses: with warmEni 1 the pool grows a secondary ENI (28 addresses).
  for (let i = 0; i < 4; i++) {
    await c.kube.create(resources.Pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${LABEL}-${i}`, namespace: NS, labels: { app: LABEL } },
      spec: { nodeSelector: { 'kubernetes.io/hostname': victim }, containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 },
    });
  }
  await waitFor('pods running with addresses', async () => {
    const pods = await listPods();
    return pods.length === 4 && pods.every((p) => p.status?.phase === 'Running' && p.metadata?.annotations?.[IP_ANNOTATION]);
  }, 180_000, 500);
  await waitFor('victim pool grown and ready', async () => {
    const p = await pool(victim);
    return p?.status?.summary?.enis === 2 && p.status.summary.used === 4 && condition(p, 'Ready')?.status === 'True';
  }, 90_000, 500);
  const enis = await settled(VICTIM_INSTANCE);
  const p = (await pool(victim))!;
  snapshot = { enis, pods: await podAddresses(), poolEnis: (p.status?.enis ?? []).map((e) => e.eniId).sort() };
  expect(Object.keys(enis)).toHaveLength(2);
  expect(Object.values(snapshot.pods).every(Boolean)).toBe(true);
});

afterAll(async () => {
  for (const name of ['evil-pool', 'evil-pool-primary', 'eni-it-roaming']) await deletePool(name).catch(() => undefined);
  for (const p of await listPods().catch(() => [])) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS }).catch(() => undefined);
  await waitFor('test pods gone', async () => (await listPods()).length === 0, 120_000).catch(() => undefined);
  await op?.stop();
});

describe('multi-tenant safety: one EniPool per instance', () => {
  it('a hand-written EniPool naming a Node\'s instance gets Conflict, and neither it nor its deletion touches the Node pool\'s ENIs or the pods\' addresses', async () => {
    await c.kube.create(ENI_POOL_RESOURCE, {
      apiVersion: ENI_POOL_RESOURCE.apiVersion,
      kind: 'EniPool',
      metadata: { name: 'evil-pool' },
      spec: { instanceId: VICTIM_INSTANCE, instanceType: 'c5.xlarge', warmIp: 1, cooldownSeconds: 0 },
    });
    const evil = await afterConflict('evil-pool');

    // Nothing of the victim changed in AWS: same ENIs, same addresses, the pods' addresses still assigned.
    await expectUntouched(snapshot.enis, snapshot.pods, snapshot.poolEnis);
    expect(condition(await pool(victim), 'Ready')?.status).toBe('True');

    // The loser says why, naming the holder, and holds nothing.
    expect(condition(evil, 'Conflict')).toMatchObject({ status: 'True', reason: 'InstanceHeldByAnotherPool' });
    expect(condition(evil, 'Conflict')?.message).toContain(`EniPool ${victim}`);
    expect(condition(evil, 'Conflict')?.message).toContain(VICTIM_INSTANCE);
    expect(condition(evil, 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(condition(evil, 'Synced')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(evil?.status?.enis ?? []).toEqual([]);
    await waitFor('Conflict Warning Event', async () =>
      (await c.kube.list<Ev>(resources.Event, { namespace: NS })).items.some((e) => e.reason === 'Conflict' && e.type === 'Warning' && e.involvedObject?.name === 'evil-pool'),
    );

    // Deleting the loser tears nothing down.
    await deletePool('evil-pool');
    await new Promise((r) => setTimeout(r, 3_000));
    await expectUntouched(snapshot.enis, snapshot.pods, snapshot.poolEnis);
  });

  it('a hand-written EniPool naming a Node\'s instance whose pool has only its primary ENI (no owner tags anywhere) gets Conflict too', async () => {
    const instanceId = account.instanceIds[0]!;
    const holder = (await waitFor('node', () => nodeOf(instanceId))).metadata!.name!;
    await waitFor('its pool warm on the primary ENI alone', async () => {
      const p = await pool(holder);
      return p?.status?.summary?.enis === 1 && (p.status.summary.free ?? 0) > 0 && condition(p, 'Ready')?.status === 'True';
    }, 60_000, 500);
    const before = await settled(instanceId);
    expect(Object.keys(before)).toHaveLength(1);
    const recorded = (await pool(holder))!.status!.enis!.map((e) => [...(e.secondaryIps ?? [])].sort());
    await c.kube.create(ENI_POOL_RESOURCE, {
      apiVersion: ENI_POOL_RESOURCE.apiVersion,
      kind: 'EniPool',
      metadata: { name: 'evil-pool-primary' },
      spec: { instanceId, instanceType: 'c5.large', warmIp: 1, cooldownSeconds: 0 },
    });
    try {
      const evil = await afterConflict('evil-pool-primary');
      expect(await inMoto(instanceId)).toEqual(before);
      expect((await pool(holder))!.status!.enis!.map((e) => [...(e.secondaryIps ?? [])].sort())).toEqual(recorded);
      expect(condition(evil, 'Conflict')).toMatchObject({ status: 'True', reason: 'InstanceHeldByAnotherPool' });
      expect(condition(evil, 'Conflict')?.message).toContain(`EniPool ${holder}`);
      await deletePool('evil-pool-primary');
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await inMoto(instanceId)).toEqual(before);
    } finally {
      await deletePool('evil-pool-primary').catch(() => undefined);
    }
  });

  it('a pool moved to a Node\'s instance later is refused likewise: the API server keeps spec.instanceId, and the pool re-created for it gets Conflict', async () => {
    // An instance of the cluster that is no Node (legacy cluster tag only: the node simulator does not register it).
    const run = await c.ec2.send(
      new RunInstancesCommand({
        LaunchTemplate: { LaunchTemplateName: account.launchTemplateName },
        MinCount: 1,
        MaxCount: 1,
        SubnetId: privateA.id,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'KubernetesCluster', Value: 'int32bit-kubernetes' }, { Key: 'kube-iaas.dev/testbed', Value: LABEL }] }],
      }),
    );
    const spare = run.Instances![0]!.InstanceId!;
    try {
      // A pool for an instance no Node and no other pool has is served like any other.
      await c.kube.create(ENI_POOL_RESOURCE, {
        apiVersion: ENI_POOL_RESOURCE.apiVersion,
        kind: 'EniPool',
        metadata: { name: 'eni-it-roaming' },
        spec: { instanceId: spare, instanceType: 'c5.large', warmIp: 2, cooldownSeconds: 0 },
      });
      await waitFor('roaming pool on the spare instance', async () => {
        const p = await pool('eni-it-roaming');
        return condition(p, 'Synced')?.status === 'True' && (p?.status?.summary?.free ?? 0) >= 2;
      }, 60_000, 500);
      const spareBefore = await settled(spare);
      expect(Object.values(spareBefore).flat().length).toBeGreaterThanOrEqual(3); // primary address + 2

      // Moving it in place: the CRD's rule refuses, naming the field.
      const moved = await c.kube.patch(ENI_POOL_RESOURCE, { name: 'eni-it-roaming' }, { spec: { instanceId: VICTIM_INSTANCE, instanceType: 'c5.xlarge', warmIp: 1 } }).catch((e: unknown) => e);
      expect(String(moved)).toMatch(/422.*spec\.instanceId.*immutable/);
      expect((await pool('eni-it-roaming'))?.spec.instanceId).toBe(spare);

      // Moving it the only way there is: deleted, and applied again for the Node's instance.
      await deletePool('eni-it-roaming');
      await c.kube.create(ENI_POOL_RESOURCE, {
        apiVersion: ENI_POOL_RESOURCE.apiVersion,
        kind: 'EniPool',
        metadata: { name: 'eni-it-roaming' },
        spec: { instanceId: VICTIM_INSTANCE, instanceType: 'c5.xlarge', warmIp: 1, cooldownSeconds: 0 },
      });
      const roaming = await afterConflict('eni-it-roaming');
      await expectUntouched(snapshot.enis, snapshot.pods, snapshot.poolEnis);
      expect(condition(roaming, 'Conflict')).toMatchObject({ status: 'True', reason: 'InstanceHeldByAnotherPool' });
      expect(condition(roaming, 'Conflict')?.message).toContain(`EniPool ${victim}`);
      expect(condition(roaming, 'Conflict')?.observedGeneration).toBe(roaming?.metadata.generation);
      // Its deletion before gave back no address of the spare instance's primary ENI either.
      expect(await inMoto(spare)).toEqual(spareBefore);

      await deletePool('eni-it-roaming');
      await new Promise((r) => setTimeout(r, 3_000));
      await expectUntouched(snapshot.enis, snapshot.pods, snapshot.poolEnis);
    } finally {
      await deletePool('eni-it-roaming').catch(() => undefined);
      await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [spare] })).catch(() => undefined);
    }
  });

  it('addresses pods hold, taken off the node\'s ENIs behind the operator\'s back, are assigned back at the pool\'s next round', async () => {
    // What the issue's evil-pool did to the node's pool, done here by hand through the EC2 API: two pods' addresses unassigned.
    const taken = Object.values(snapshot.pods).slice(0, 2);
    const eniOf = (ip: string) => Object.entries(snapshot.enis).find(([, ips]) => ips.includes(ip))![0];
    for (const ip of taken) await c.ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniOf(ip), PrivateIpAddresses: [ip] }));
    expect(Object.values(await inMoto(VICTIM_INSTANCE)).flat()).not.toContain(taken[0]);
    // The next pool round (the resync, or any change of the pool; here a spec edit) finds them gone and puts them back.
    const before = (await pool(victim))!.spec.cooldownSeconds;
    let poke = 0;
    try {
      await waitFor('addresses assigned back', async () => {
        const held = Object.values(await inMoto(VICTIM_INSTANCE)).flat();
        if (taken.every((ip) => held.includes(ip))) return true;
        // Each poll is another round (a spec edit), so a round that raced another change cannot hide the result.
        await c.kube.patch(ENI_POOL_RESOURCE, { name: victim }, { spec: { cooldownSeconds: (before ?? 2) + 1 + (poke++ % 2) } });
        return false;
      }, 30_000, 1_000);
      expect(await podAddresses()).toEqual(snapshot.pods);
      const p = (await pool(victim))!;
      const recorded = new Set((p.status?.enis ?? []).flatMap((e) => e.secondaryIps ?? []));
      for (const ip of Object.values(snapshot.pods)) expect(recorded.has(ip), `${ip} recorded`).toBe(true);
      expect(condition(p, 'Ready')?.status).toBe('True');
    } finally {
      await c.kube.patch(ENI_POOL_RESOURCE, { name: victim }, { spec: { cooldownSeconds: before ?? null } });
    }
  });
});
