// Attachment limits on the testbed. The operator refuses an attach when every EBS slot of the instance
// is taken (no AttachVolume call) and attaches once one frees; the scheduler keeps pods off a node whose
// CSINode allocatable count is used up. Slots are filled with volumes attached straight through moto,
// so the test does not have to provision 26 claims.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachVolumeCommand, CreateVolumeCommand, DeleteVolumeCommand, DescribeInstancesCommand, DetachVolumeCommand } from '@aws-sdk/client-ec2';
import { PVC_NAMESPACE_TAG } from '@kube-iaas/core/tags';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { OperatorProcess, mutatingDelta, repoRoot } from '@kube-iaas/testbed/testing';
import { DRIVER_NAME } from '../../src/constants.ts';
import { canonicalDevice } from '../../src/plan/devices.ts';
import type { PersistentVolumeClaim, VolumeAttachment } from '../../src/translate/index.ts';
import { claim, createNamespace, describeVolume, ec2, ensureNodeRegistration, eventsFor, instanceOf, kube, nodes, podWithClaim, storageClass, volumesTagged, waitFor, zoneOf } from './harness.ts';

const PVC = resources.PersistentVolumeClaim;
const POD = resources.Pod;
const VA = resources.VolumeAttachment;
const SC = resources.StorageClass;
const ZONE = 'cn-northwest-1a';
const suffix = Math.random().toString(36).slice(2, 6);
const scName = `ebs-limit-${suffix}`;

interface CsiNode extends KubeObject {
  spec: { drivers: { name: string; nodeID?: string; allocatable?: { count?: number } }[] };
}

let op: OperatorProcess;
const fillers: { volumeId: string; instanceId: string }[] = [];

function hostnameSelector(nodeName: string): Record<string, unknown> {
  return { nodeSelector: { 'kubernetes.io/hostname': nodeName } };
}

async function allocatable(nodeName: string): Promise<{ index: number; count: number }> {
  const cn = await kube.get<CsiNode>(resources.CSINode, nodeName);
  const index = cn?.spec.drivers.findIndex((d) => d.name === DRIVER_NAME) ?? -1;
  const count = cn?.spec.drivers[index]?.allocatable?.count;
  if (index < 0 || count === undefined) throw new Error(`CSINode ${nodeName} has no ${DRIVER_NAME} entry with an allocatable count`);
  return { index, count };
}

async function setAllocatable(nodeName: string, count: number): Promise<void> {
  const { index } = await allocatable(nodeName);
  await kube.patch(resources.CSINode, { name: nodeName }, [{ op: 'replace', path: `/spec/drivers/${index}/allocatable/count`, value: count }], { patchType: 'json' });
}

async function attachmentOf(pvName: string): Promise<VolumeAttachment | undefined> {
  return (await kube.list<VolumeAttachment>(VA)).items.find((va) => va.spec.source.persistentVolumeName === pvName);
}

async function boundVolumeName(ns: string, name: string): Promise<string> {
  return waitFor(`claim ${ns}/${name} Bound`, async () => {
    const c = await kube.get<PersistentVolumeClaim>(PVC, name, ns);
    return c?.status?.phase === 'Bound' ? c.spec?.volumeName : undefined;
  });
}

async function podPhase(ns: string, name: string): Promise<string | undefined> {
  return (await kube.get<KubeObject & { status?: { phase?: string } }>(POD, name, ns))?.status?.phase;
}

beforeAll(async () => {
  await ensureNodeRegistration();
  op = await OperatorProcess.start(join(repoRoot(), 'packages', 'volume-operator', 'src', 'main.ts'), ['--leader-elect=false', '--orphan-scan-interval=0']);
  await kube.create(SC, storageClass(scName, { type: 'gp3' }, { allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: [ZONE] }] }] }));
});

async function releaseFillers(): Promise<void> {
  for (const f of fillers) await ec2.send(new DetachVolumeCommand({ VolumeId: f.volumeId, InstanceId: f.instanceId })).catch(() => undefined);
  for (const f of fillers.splice(0)) await ec2.send(new DeleteVolumeCommand({ VolumeId: f.volumeId })).catch(() => undefined);
}

afterAll(async () => {
  await op?.stop();
  await releaseFillers();
  await kube.delete(SC, { name: scName }).catch(() => undefined);
});

describe('attach limits', () => {
  it('every EBS slot taken: the attach is refused with an attachError naming the limit and no AttachVolume call; it attaches once a slot frees', async () => {
    const node = (await nodes()).find((n) => zoneOf(n) === ZONE && n.metadata?.labels?.['node.kubernetes.io/instance-type'] === 'c5.large');
    const nodeName = node?.metadata?.name ?? '';
    const instanceId = instanceOf(node) ?? '';
    expect(instanceId).toMatch(/^i-/);
    const { count } = await allocatable(nodeName);

    // Fill the slots the scheduler is told about with volumes attached outside Kubernetes.
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations?.[0]?.Instances?.[0];
    const taken = new Set((inst?.BlockDeviceMappings ?? []).map((b) => canonicalDevice(b.DeviceName ?? '')));
    const dataVolumes = [...taken].filter((d) => d !== canonicalDevice(inst?.RootDeviceName ?? '/dev/xvda')).length;
    // The CSINode count assumes the primary ENI only; the operator counts the ENIs attached now (another
    // test's warm ENI takes a shared Nitro slot), so its limit is lower by each extra ENI.
    const limit = count + 1 - (inst?.NetworkInterfaces?.length ?? 1);
    const names = [...'abcdefghijklmnopqrstuvwxyz'].flatMap((a) => [`/dev/xvdq${a}`, `/dev/xvdr${a}`]).filter((d) => !taken.has(d));
    for (let i = dataVolumes; i < limit; i++) {
      const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: ZONE, Size: 1, VolumeType: 'gp3', TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: `limit-filler-${suffix}` }] }] }));
      await ec2.send(new AttachVolumeCommand({ VolumeId: v.VolumeId, InstanceId: instanceId, Device: names.shift() }));
      fillers.push({ volumeId: v.VolumeId ?? '', instanceId });
    }

    const ns = await createNamespace('limit');
    await kube.create(PVC, claim(ns, 'data', scName, '1Gi'));
    const pvName = await boundVolumeName(ns, 'data');
    const before = await op.awsCalls();
    await kube.create(POD, podWithClaim(ns, 'full', 'data', hostnameSelector(nodeName)));

    const va = await waitFor('VolumeAttachment with an attachError', async () => {
      const a = await attachmentOf(pvName);
      return a?.status?.attachError?.message ? a : undefined;
    });
    expect(va.spec.nodeName).toBe(nodeName);
    expect(va.status?.attached).toBe(false);
    expect(va.status?.attachError?.message).toContain(`instance ${instanceId} (c5.large) has no free EBS attachment slot: ${limit} of ${limit} data volumes attached or attaching`);
    const ev = await waitFor('AttachFailed event', async () => (await eventsFor('default', va.metadata?.name ?? '')).find((e) => e.reason === 'AttachFailed'));
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain(`${limit} of ${limit}`);
    const volumeId = (await kube.get<KubeObject & { spec?: { csi?: { volumeHandle?: string } } }>(resources.PersistentVolume, pvName))?.spec?.csi?.volumeHandle ?? '';
    expect((await describeVolume(volumeId))?.State).toBe('available');
    expect(Object.keys(mutatingDelta(before, await op.awsCalls())).filter((k) => k.startsWith('ec2:AttachVolume:'))).toEqual([]);
    expect(await podPhase(ns, 'full')).toBe('Pending');

    // One slot frees up: the retry attaches.
    const freed = fillers.shift();
    await ec2.send(new DetachVolumeCommand({ VolumeId: freed?.volumeId, InstanceId: instanceId }));
    await ec2.send(new DeleteVolumeCommand({ VolumeId: freed?.volumeId }));
    await waitFor('attached after a slot freed', async () => (await attachmentOf(pvName))?.status?.attached, 60_000);
    expect((await describeVolume(volumeId))?.Attachments).toEqual([expect.objectContaining({ InstanceId: instanceId, State: 'attached' })]);
    expect(mutatingDelta(before, await op.awsCalls())).toMatchObject({ 'ec2:AttachVolume:success': 1 });
    await waitFor('pod Running', async () => (await podPhase(ns, 'full')) === 'Running', 60_000);

    await kube.delete(POD, { name: 'full', namespace: ns });
    await waitFor('VolumeAttachment gone', async () => !(await attachmentOf(pvName)), 90_000);
    await kube.delete(PVC, { name: 'data', namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(volumeId)));
    await releaseFillers();
  });

  it('the scheduler honours the CSINode allocatable count: with a count of 1 the second pod with a volume waits, and schedules when the count is raised', async () => {
    const node = (await nodes()).find((n) => zoneOf(n) === ZONE && n.metadata?.labels?.['node.kubernetes.io/instance-type'] === 'c5.xlarge');
    const nodeName = node?.metadata?.name ?? '';
    const { count: original } = await allocatable(nodeName);
    const ns = await createNamespace('csinode');
    await setAllocatable(nodeName, 1);
    try {
      for (const c of ['one', 'two']) await kube.create(PVC, claim(ns, c, scName, '1Gi'));
      for (const c of ['one', 'two']) await boundVolumeName(ns, c);
      await kube.create(POD, podWithClaim(ns, 'one', 'one', hostnameSelector(nodeName)));
      await waitFor('first pod Running', async () => (await podPhase(ns, 'one')) === 'Running', 90_000);
      await kube.create(POD, podWithClaim(ns, 'two', 'two', hostnameSelector(nodeName)));
      const ev = await waitFor('FailedScheduling for the second pod', async () => (await eventsFor(ns, 'two')).find((e) => e.reason === 'FailedScheduling'));
      expect(ev.message).toMatch(/max volume count/);
      expect(await podPhase(ns, 'two')).toBe('Pending');
      expect((await kube.get<KubeObject & { spec?: { nodeName?: string } }>(POD, 'two', ns))?.spec?.nodeName).toBeUndefined();

      await setAllocatable(nodeName, original);
      await waitFor('second pod Running once the count is raised', async () => (await podPhase(ns, 'two')) === 'Running', 90_000);
    } finally {
      await setAllocatable(nodeName, original);
    }
    for (const p of ['one', 'two']) await kube.delete(POD, { name: p, namespace: ns });
    await waitFor('pods gone', async () => !(await kube.get(POD, 'one', ns)) && !(await kube.get(POD, 'two', ns)));
    for (const c of ['one', 'two']) await kube.delete(PVC, { name: c, namespace: ns });
    await waitFor('volumes deleted', async () => (await volumesTagged(PVC_NAMESPACE_TAG, ns)).every((v) => v.State === 'deleted'));
  });
});
