// Crash recovery and bad input on the testbed, the operator as its own process.
// The crash is real: an HTTP relay between the operator and moto passes CreateNetworkInterface through
// to moto, then SIGKILLs the operator before it can attach the new ENI (it never sees the answer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import type { EniPool } from '@kube-iaas/crds';
import { describeNetworkInterfaces } from '@kube-iaas/core/aws';
import { ownedByClusterFilters, taggedOwner } from '@kube-iaas/core/tags';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { crashRelay, type CrashRelay } from '@kube-iaas/testbed/testing';
import { ENI_POOL_RESOURCE } from '../../src/constants.ts';
import { OperatorProcess, clients, waitFor, type Clients } from './harness.ts';

const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const CLUSTER = 'int32bit-kubernetes';

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string } };

let c: Clients;
let relay: CrashRelay | undefined;
let relayUrl = '';
let victim: OperatorProcess | undefined;
let armed = false;
let creates = 0;

const pool = (name: string) => c.kube.get<EniPool>(ENI_POOL_RESOURCE, name);
const nodeOf = async (instanceId: string) => (await c.kube.list<V1Node>(resources.Node)).items.find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`));
const poolEnis = async (name: string) => (await describeNetworkInterfaces(c.ec2, { filters: ownedByClusterFilters(CLUSTER) })).filter((e) => taggedOwner(e.tags)?.name === name);
const events = async (name: string, reason: string) =>
  (await c.kube.list<Ev>(resources.Event, { namespace: 'default' })).items.filter((e) => e.reason === reason && e.type === 'Warning' && e.involvedObject?.name === name);

beforeAll(async () => {
  c = clients();
  // The ENI exists in "AWS" once the create passes; the operator dies before it learns its ID.
  relay = await crashRelay('CreateNetworkInterface', () => {
    if (!armed || !victim) return false;
    creates++;
    victim.child.kill('SIGKILL');
    return true;
  });
  relayUrl = relay.url;
});

afterAll(async () => {
  await victim?.stop('SIGKILL');
  relay?.close();
});

describe('eni-operator: crash and bad input', () => {
  it('killed between CreateNetworkInterface and AttachNetworkInterface, then restarted: the ENI is found by its tags and attached, no second one, no leak', async () => {
    const instanceId = account.instanceIds[2]!;
    const name = (await waitFor('node', () => nodeOf(instanceId)))!.metadata!.name!;
    // The SDK prefers the per-service variable, so only EC2 goes through the relay.
    process.env.AWS_ENDPOINT_URL_EC2 = relayUrl;
    try {
      victim = await OperatorProcess.start(['--leaked-eni-sweep-interval=0', '--cooldown=1s']);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_EC2;
    }
    let restarted: OperatorProcess | undefined;
    try {
      await waitFor('pool at its warm target', async () => (await pool(name))?.status?.summary?.enis === 1 && (await pool(name))?.status?.summary?.free === 9, 60_000, 500);
      expect(await poolEnis(name)).toEqual([]);
      armed = true;
      // Two spare ENIs' worth: the pool creates a second ENI.
      await c.kube.patch(ENI_POOL_RESOURCE, { name }, { spec: { warmEni: 2 } });
      await waitFor('operator killed after CreateNetworkInterface', () => victim!.child.signalCode === 'SIGKILL', 60_000, 100);
      armed = false;
      const orphaned = await poolEnis(name);
      expect(creates).toBe(1);
      expect(orphaned).toHaveLength(1);
      expect(orphaned[0]!.status).toBe('available'); // created, never attached

      restarted = await OperatorProcess.start(['--leaked-eni-sweep-interval=0', '--cooldown=1s']);
      const p = await waitFor('the detached ENI attached and recorded', async () => {
        const x = await pool(name);
        return x?.status?.summary?.enis === 2 && x.status.summary.free === 18 ? x : undefined;
      }, 60_000, 500);
      const ours = await poolEnis(name);
      expect(ours.map((e) => e.id)).toEqual([orphaned[0]!.id]); // the same ENI, no second one
      expect(ours[0]!.attachment).toMatchObject({ instanceId, deviceIndex: 1 });
      expect(p.status?.enis?.map((e) => e.eniId)).toContain(orphaned[0]!.id);
      const attached = await describeNetworkInterfaces(c.ec2, { filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] });
      expect(attached).toHaveLength(2);

      // Back to one spare ENI: the recovered ENI is released, nothing of ours is left over.
      await c.kube.patch(ENI_POOL_RESOURCE, { name }, { spec: { warmEni: 1 } });
      // The record drops the ENI first (so nothing is handed out from it), then AWS deletes it.
      await waitFor('pool back to one ENI, the recovered one deleted in AWS', async () => (await pool(name))?.status?.summary?.enis === 1 && (await poolEnis(name)).length === 0, 60_000, 500);
    } finally {
      armed = false;
      await c.kube.patch(ENI_POOL_RESOURCE, { name }, { spec: { warmEni: 1 } }).catch(() => undefined);
      await restarted?.stop();
    }
  });

  it('bad Nodes: no providerID → Warning Event and no EniPool; an unknown instance type → Synced=False/UnknownInstanceType, Event, no ENI', async () => {
    const op = await OperatorProcess.start(['--leaked-eni-sweep-interval=0']);
    const noProvider = 'eni-it-no-provider-id';
    const unknownType = 'eni-it-unknown-type';
    const node = (name: string, providerID?: string): V1Node => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'node.kubernetes.io/instance-type': name === unknownType ? 'c5.mega' : 'c5.large', 'kube-iaas.dev/test': 'eni-it' } },
      spec: providerID ? { providerID } : {},
    });
    try {
      for (const n of [noProvider, unknownType]) await c.kube.delete(resources.Node, { name: n }).catch(() => undefined);
      await c.kube.create(resources.Node, node(noProvider));
      await c.kube.create(resources.Node, node(unknownType, `aws:///${account.zones[0]}/${account.instanceIds[0]!.replace(/.$/, (x) => (x === '0' ? '1' : '0'))}`));

      const [ev] = await waitFor('InvalidNode Warning Event', async () => {
        const e = await events(noProvider, 'InvalidNode');
        return e.length ? e : undefined;
      }, 30_000, 500);
      expect(ev!.message).toMatch(/spec\.providerID: is not set/);
      expect(await pool(noProvider)).toBeUndefined();

      const p = await waitFor('UnknownInstanceType condition', async () => {
        const x = await pool(unknownType);
        return x?.status?.conditions?.some((k) => k.type === 'Synced' && k.status === 'False' && k.reason === 'UnknownInstanceType') ? x : undefined;
      }, 30_000, 500);
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: unknownType });
      expect(p.status?.conditions?.find((k) => k.type === 'Synced')?.message).toMatch(/spec\.instanceType/);
      await waitFor('UnknownInstanceType Warning Event', async () => (await events(unknownType, 'UnknownInstanceType')).length > 0, 30_000, 500);
      expect(await poolEnis(unknownType)).toEqual([]);
      // Still running, and still serving the good pools.
      expect(op.child.exitCode).toBeNull();
      expect((await fetch(`http://127.0.0.1:${op.port}/healthz`)).ok).toBe(true);
    } finally {
      for (const n of [noProvider, unknownType]) await c.kube.delete(resources.Node, { name: n }).catch(() => undefined);
      await waitFor('pool of the deleted Node gone', async () => !(await pool(unknownType)), 60_000, 500).catch(() => undefined);
      await op.stop();
    }
  });

  // Core's one providerID parser: every form the AWS cloud provider writes or reads back makes a pool (as
  // the lb and ingress operators count such a Node as an AWS node); Fargate and malformed IDs do not.
  it('providerID forms: aws:///<id> and aws://<zone>/<id> get an EniPool; Fargate and a 7-digit ID → InvalidNode naming spec.providerID, no pool', async () => {
    const op = await OperatorProcess.start(['--leaked-eni-sweep-interval=0']);
    // Instances that do not exist: the unknown instance type stops the pool before any instance call.
    const accepted = [
      { name: 'eni-it-pid-no-zone', providerID: 'aws:///i-0fedcba9876543210', instanceId: 'i-0fedcba9876543210' },
      { name: 'eni-it-pid-host-zone', providerID: `aws://${account.zones[0]}/i-0fedcba9`, instanceId: 'i-0fedcba9' },
    ];
    const refused = [
      { name: 'eni-it-pid-fargate', providerID: `aws:///${account.zones[0]}/0123456789abcdef0123456789abcdef/fargate-ip-192-168-1-2.ec2.internal` },
      { name: 'eni-it-pid-short', providerID: `aws:///${account.zones[0]}/i-0fedcba` },
    ];
    const all = [...accepted, ...refused];
    const node = (name: string, providerID: string): V1Node => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'node.kubernetes.io/instance-type': 'c5.mega', 'kube-iaas.dev/test': 'eni-it' } },
      spec: { providerID },
    });
    try {
      for (const n of all) await c.kube.delete(resources.Node, { name: n.name }).catch(() => undefined);
      for (const n of all) await c.kube.create(resources.Node, node(n.name, n.providerID));
      for (const n of accepted) {
        const p = await waitFor(`EniPool of ${n.name}`, () => pool(n.name), 30_000, 500);
        expect(p.spec?.instanceId).toBe(n.instanceId);
      }
      for (const n of refused) {
        const [ev] = await waitFor(`InvalidNode Warning Event of ${n.name}`, async () => {
          const e = await events(n.name, 'InvalidNode');
          return e.length ? e : undefined;
        }, 30_000, 500);
        expect(ev!.message).toContain(`spec.providerID: "${n.providerID}" is not aws:///<zone>/<instance-id>`);
        expect(await pool(n.name)).toBeUndefined();
      }
    } finally {
      for (const n of all) await c.kube.delete(resources.Node, { name: n.name }).catch(() => undefined);
      for (const n of accepted) await waitFor('pool of the deleted Node gone', async () => !(await pool(n.name)), 60_000, 500).catch(() => undefined);
      await op.stop();
    }
  });
});
