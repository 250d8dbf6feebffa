// The volume-operator on the testbed: real kube-apiserver, PV controller, attach/detach controller and
// scheduler; moto as EC2; the node simulator as kubelets. The operator runs as its own process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_OWNED,
  LEGACY_CLUSTER_TAG,
  OWNER_KIND_TAG,
  OWNER_UID_TAG,
  PVC_NAME_TAG,
  PVC_NAMESPACE_TAG,
  PV_NAME_TAG,
  clusterTagKey,
} from '@kube-iaas/core/tags';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import type { AwsVolume } from '@kube-iaas/crds';
import { DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { CreateAliasCommand, CreateKeyCommand, DeleteAliasCommand, DisableKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { AWS_VOLUME_TYPE } from '../../src/constants.ts';
import type { PersistentVolume, PersistentVolumeClaim, VolumeAttachment } from '../../src/translate/index.ts';
import {
  boundClaim,
  claim,
  createNamespace,
  describeVolume,
  ec2,
  ensureNodeRegistration,
  eventsFor,
  instanceOf,
  kube,
  nodes,
  podWithClaim,
  startOperator,
  storageClass,
  tagMap,
  tb,
  volumesTagged,
  waitFor,
  zoneOf,
  type RunningOperator,
} from './harness.ts';

const PVC = resources.PersistentVolumeClaim;
const PV = resources.PersistentVolume;
const POD = resources.Pod;
const VA = resources.VolumeAttachment;
const SC = resources.StorageClass;

let op: RunningOperator;
const classes: string[] = [];
const suffix = Math.random().toString(36).slice(2, 6);

async function makeClass(base: string, parameters: Record<string, string>, over: Record<string, unknown> = {}): Promise<string> {
  const name = `${base}-${suffix}`;
  await kube.create(SC, storageClass(name, parameters, over));
  classes.push(name);
  return name;
}

async function awsVolumeOf(pvName: string): Promise<AwsVolume> {
  return waitFor(`AwsVolume ${pvName} with a volume ID`, async () => {
    const av = await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvName);
    return av?.status?.volumeId ? av : undefined;
  });
}

async function attachmentsOf(pvName: string): Promise<VolumeAttachment[]> {
  return (await kube.list<VolumeAttachment>(VA)).items.filter((va) => va.spec.source.persistentVolumeName === pvName);
}

async function runningPod(ns: string, name: string): Promise<KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } }> {
  return waitFor(
    `pod ${ns}/${name} Running`,
    async () => {
      const p = await kube.get<KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } }>(POD, name, ns);
      return p?.status?.phase === 'Running' ? p : undefined;
    },
    90_000,
  );
}

async function deletePod(ns: string, name: string): Promise<void> {
  await kube.delete(POD, { name, namespace: ns });
  await waitFor(`pod ${ns}/${name} gone`, async () => !(await kube.get(POD, name, ns)));
}

beforeAll(async () => {
  await ensureNodeRegistration();
  op = await startOperator();
});

afterAll(async () => {
  await op?.stop();
  for (const c of classes) await kube.delete(SC, { name: c }).catch(() => undefined);
});

describe('volume-operator on the testbed', () => {
  it('article flow: gp3 class + 30Gi claim → tagged 30 GiB volume, PV Bound, attached where nginx runs, detached, deleted', async () => {
    const ns = await createNamespace('article');
    const sc = await makeClass('ebs-gp3', { type: 'gp3' });
    await kube.create(PVC, claim(ns, 'data', sc, '30Gi'));
    const pvc = await boundClaim(ns, 'data');
    const pvName = pvc.spec?.volumeName ?? '';
    expect(pvName).toBe(`pvc-${pvc.metadata?.uid}`);

    const av = await awsVolumeOf(pvName);
    const volumeId = av.status?.volumeId ?? '';
    const vol = await describeVolume(volumeId);
    expect(vol).toMatchObject({ Size: 30, VolumeType: 'gp3', State: 'available' });
    const tags = tagMap(vol);
    expect(tags).toMatchObject({
      [clusterTagKey(tb.clusterName)]: CLUSTER_OWNED,
      [LEGACY_CLUSTER_TAG]: tb.clusterName,
      [PVC_NAME_TAG]: 'data',
      [PVC_NAMESPACE_TAG]: ns,
      [PV_NAME_TAG]: pvName,
      [OWNER_KIND_TAG]: 'AwsVolume',
      [OWNER_UID_TAG]: av.metadata.uid,
    });

    const pv = await kube.get<PersistentVolume>(PV, pvName);
    expect(pv?.spec).toMatchObject({
      capacity: { storage: '30Gi' },
      persistentVolumeReclaimPolicy: 'Delete',
      csi: { driver: 'ebs.kube-iaas.dev', volumeHandle: volumeId, fsType: 'ext4' },
      claimRef: { namespace: ns, name: 'data', uid: pvc.metadata?.uid },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [vol?.AvailabilityZone] }] }] } },
    });
    const ev = await eventsFor(ns, 'data');
    expect(ev.some((e) => e.reason === 'ProvisioningSucceeded' && e.message?.includes(volumeId))).toBe(true);

    await kube.create(POD, podWithClaim(ns, 'nginx', 'data'));
    const pod = await runningPod(ns, 'nginx');
    const node = (await nodes()).find((n) => n.metadata?.name === pod.spec?.nodeName);
    expect(zoneOf(node)).toBe(vol?.AvailabilityZone);
    const [va] = await attachmentsOf(pvName);
    expect(va?.status).toMatchObject({ attached: true, attachmentMetadata: { devicePath: expect.stringMatching(/^\/dev\/xvd[b-z][a-z]$/), volumeId } });
    const inUse = await describeVolume(volumeId);
    expect(inUse?.State).toBe('in-use');
    expect(inUse?.Attachments).toEqual([expect.objectContaining({ InstanceId: instanceOf(node), State: 'attached', Device: va?.status?.attachmentMetadata?.devicePath })]);
    await waitFor('AwsVolume status shows the attachment', async () => (await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvName))?.status?.attachments?.[0]?.nodeName === node?.metadata?.name);

    await deletePod(ns, 'nginx');
    await waitFor('VolumeAttachment gone', async () => (await attachmentsOf(pvName)).length === 0, 90_000);
    expect((await describeVolume(volumeId))?.State).toBe('available');

    await kube.delete(PVC, { name: 'data', namespace: ns });
    await waitFor('EBS volume deleted', async () => {
      const v = await describeVolume(volumeId);
      return !v || v.State === 'deleted';
    });
    await waitFor('PV and AwsVolume gone', async () => !(await kube.get(PV, pvName)) && !(await kube.get(AWS_VOLUME_TYPE, pvName)));
  });

  it('WaitForFirstConsumer: the volume is created in the zone of the pod\'s node and a second pod lands in that zone', async () => {
    const ns = await createNamespace('wffc');
    const sc = await makeClass('ebs-wffc', { type: 'gp3' }, { volumeBindingMode: 'WaitForFirstConsumer' });
    await kube.create(PVC, claim(ns, 'data', sc, '5Gi'));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await kube.get<PersistentVolumeClaim>(PVC, 'data', ns))?.status?.phase).toBe('Pending');
    expect((await kube.list<AwsVolume>(AWS_VOLUME_TYPE)).items.filter((a) => a.spec.claimRef?.namespace === ns)).toEqual([]);

    // Prefer the single-node zone b: the first pod goes there, so the volume must follow.
    const preferB = { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['cn-northwest-1b'] }] } }] } } };
    await kube.create(POD, podWithClaim(ns, 'first', 'data', preferB));
    const first = await runningPod(ns, 'first');
    const all = await nodes();
    const firstZone = zoneOf(all.find((n) => n.metadata?.name === first.spec?.nodeName));
    const pvc = await boundClaim(ns, 'data');
    const av = await awsVolumeOf(pvc.spec?.volumeName ?? '');
    expect(av.spec.availabilityZone).toBe(firstZone);
    expect((await describeVolume(av.status?.volumeId ?? ''))?.AvailabilityZone).toBe(firstZone);
    await deletePod(ns, 'first');

    // The second pod prefers the other zone; the PV's node affinity keeps it in the volume's zone.
    const other = firstZone === 'cn-northwest-1a' ? 'cn-northwest-1b' : 'cn-northwest-1a';
    const preferOther = { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [other] }] } }] } } };
    await kube.create(POD, podWithClaim(ns, 'second', 'data', preferOther));
    const second = await runningPod(ns, 'second');
    expect(zoneOf((await nodes()).find((n) => n.metadata?.name === second.spec?.nodeName))).toBe(firstZone);
    await deletePod(ns, 'second');
    await kube.delete(PVC, { name: 'data', namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(av.status?.volumeId ?? '')));
  });

  it('io2 with iops: the volume has the type and the provisioned IOPS', async () => {
    const ns = await createNamespace('io2');
    const sc = await makeClass('ebs-io2', { type: 'io2', iops: '4000', encrypted: 'true' });
    await kube.create(PVC, claim(ns, 'db', sc, '10Gi'));
    const pvc = await boundClaim(ns, 'db');
    const av = await awsVolumeOf(pvc.spec?.volumeName ?? '');
    expect(av.spec).toMatchObject({ volumeType: 'io2', iops: 4000, sizeGiB: 10, encrypted: true });
    expect(await describeVolume(av.status?.volumeId ?? '')).toMatchObject({ VolumeType: 'io2', Iops: 4000, Size: 10, Encrypted: true });
    await kube.delete(PVC, { name: 'db', namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(av.status?.volumeId ?? '')));
  });

  it('expansion: a larger request grows the volume (ModifyVolume), the PV capacity, and marks the claim FileSystemResizePending', async () => {
    const ns = await createNamespace('grow');
    const sc = await makeClass('ebs-grow', { type: 'gp3' });
    await kube.create(PVC, claim(ns, 'data', sc, '10Gi'));
    const pvc = await boundClaim(ns, 'data');
    const pvName = pvc.spec?.volumeName ?? '';
    const av = await awsVolumeOf(pvName);
    await kube.patch(PVC, { name: 'data', namespace: ns }, { spec: { resources: { requests: { storage: '25Gi' } } } });
    await waitFor('EBS volume at 25 GiB', async () => (await describeVolume(av.status?.volumeId ?? ''))?.Size === 25);
    await waitFor('PV capacity 25Gi', async () => (await kube.get<PersistentVolume>(PV, pvName))?.spec?.capacity?.storage === '25Gi');
    const grown = await waitFor('claim condition FileSystemResizePending', async () => {
      const c = await kube.get<PersistentVolumeClaim>(PVC, 'data', ns);
      return c?.status?.conditions?.some((x) => x.type === 'FileSystemResizePending' && x.status === 'True') ? c : undefined;
    });
    expect(grown.status?.capacity?.storage).toBe('10Gi'); // the filesystem is not grown yet: the node plugin's job
    expect((await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvName))?.status?.sizeGiB).toBe(25);
    await kube.delete(PVC, { name: 'data', namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(av.status?.volumeId ?? '')));
  });

  it('reclaim Retain: deleting the claim keeps the volume and says so in status', async () => {
    const ns = await createNamespace('retain');
    const sc = await makeClass('ebs-retain', { type: 'gp3' }, { reclaimPolicy: 'Retain' });
    await kube.create(PVC, claim(ns, 'keep', sc, '8Gi'));
    const pvc = await boundClaim(ns, 'keep');
    const pvName = pvc.spec?.volumeName ?? '';
    const av = await awsVolumeOf(pvName);
    const volumeId = av.status?.volumeId ?? '';
    await kube.delete(PVC, { name: 'keep', namespace: ns });
    const retained = await waitFor('AwsVolume retained', async () => {
      const a = await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvName);
      return a?.status?.retained ? a : undefined;
    });
    expect(retained.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Retained' });
    expect((await kube.get<PersistentVolume>(PV, pvName))?.status?.phase).toBe('Released');
    expect((await describeVolume(volumeId))?.State).toBe('available');

    // Deleting the PV and the AwsVolume by hand hands the volume over: it stays, without owner tags.
    await kube.delete(PV, { name: pvName });
    await kube.delete(AWS_VOLUME_TYPE, { name: pvName });
    await waitFor('AwsVolume gone', async () => !(await kube.get(AWS_VOLUME_TYPE, pvName)));
    const kept = await describeVolume(volumeId);
    expect(kept?.State).toBe('available');
    expect(tagMap(kept)[OWNER_UID_TAG]).toBeUndefined();
    expect(tagMap(kept)[clusterTagKey(tb.clusterName)]).toBe(CLUSTER_OWNED);
    await ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
  });

  it('two pods on different nodes in turn: the volume detaches from the first instance and attaches to the second', async () => {
    const ns = await createNamespace('move');
    const zoneA = 'cn-northwest-1a';
    const sc = await makeClass('ebs-move', { type: 'gp3' }, { allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: [zoneA] }] }] });
    await kube.create(PVC, claim(ns, 'data', sc, '4Gi'));
    const pvc = await boundClaim(ns, 'data');
    const pvName = pvc.spec?.volumeName ?? '';
    const av = await awsVolumeOf(pvName);
    const volumeId = av.status?.volumeId ?? '';
    const inA = (await nodes()).filter((n) => zoneOf(n) === zoneA);
    expect(inA.length).toBe(2);
    const seen: string[] = [];
    for (const [i, node] of inA.entries()) {
      const name = `pod-${i}`;
      await kube.create(POD, podWithClaim(ns, name, 'data', { nodeSelector: { 'kubernetes.io/hostname': node.metadata?.labels?.['kubernetes.io/hostname'] ?? node.metadata?.name } }));
      await runningPod(ns, name);
      const v = await describeVolume(volumeId);
      expect(v?.Attachments?.map((a) => a.InstanceId)).toEqual([instanceOf(node)]);
      seen.push(v?.Attachments?.[0]?.InstanceId ?? '');
      await deletePod(ns, name);
      await waitFor('detached', async () => (await describeVolume(volumeId))?.State === 'available', 90_000);
    }
    expect(new Set(seen).size).toBe(2);
    await kube.delete(PVC, { name: 'data', namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(volumeId)));
  });

  it('bad input: ProvisioningFailed warnings name the parameter and the limit, and nothing is created in AWS', async () => {
    const ns = await createNamespace('bad');
    const cases: { params: Record<string, string>; size: string; expect: string }[] = [
      { params: { type: 'gp3', speed: 'fast' }, size: '10Gi', expect: 'speed: unknown parameter' },
      { params: { type: 'io1', iops: '1000', iopsPerGB: '10' }, size: '10Gi', expect: 'iops and iopsPerGB are mutually exclusive' },
      { params: { type: 'gp3', iops: '20000' }, size: '100Gi', expect: 'iops: 20000 is outside the 3000-16000 range of volume type gp3' },
      { params: { type: 'io1', iops: '1000' }, size: '10Gi', expect: 'at most 500' },
      { params: { type: 'st1' }, size: '100Gi', expect: '100 GiB is outside the 125-16384 GiB range of volume type st1' },
      { params: { type: 'gp3' }, size: '10Gi', expect: 'none of cn-northwest-1c has a subnet tagged for this cluster' },
    ];
    for (const [i, c] of cases.entries()) {
      const over = i === cases.length - 1 ? { allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['cn-northwest-1c'] }] }] } : {};
      const sc = await makeClass(`ebs-bad${i}`, c.params, over);
      await kube.create(PVC, claim(ns, `c${i}`, sc, c.size));
    }
    for (const [i, c] of cases.entries()) {
      const ev = await waitFor(`ProvisioningFailed on c${i}`, async () => (await eventsFor(ns, `c${i}`)).find((e) => e.reason === 'ProvisioningFailed'));
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(c.expect);
      expect((await kube.get<PersistentVolumeClaim>(PVC, `c${i}`, ns))?.status?.phase).toBe('Pending');
    }
    expect((await kube.list<AwsVolume>(AWS_VOLUME_TYPE)).items.filter((a) => a.spec.claimRef?.namespace === ns)).toEqual([]);
    expect((await volumesTagged(PVC_NAMESPACE_TAG, ns)).length).toBe(0);
  });

  it('KMS: an unknown or disabled kmsKeyId is a ProvisioningFailed naming kmsKeyId with no volume; a real key (by alias) encrypts the volume with its ARN', async () => {
    const kms = new KMSClient({ region: tb.region, endpoint: tb.awsEndpoint });
    const key = (await kms.send(new CreateKeyCommand({ Description: `volume-operator it ${suffix}` }))).KeyMetadata;
    const alias = `alias/kube-iaas-it-${suffix}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key?.KeyId }));
    const off = (await kms.send(new CreateKeyCommand({ Description: `volume-operator it disabled ${suffix}` }))).KeyMetadata;
    await kms.send(new DisableKeyCommand({ KeyId: off?.KeyId }));

    const ns = await createNamespace('kms');
    const unknown = `alias/no-such-key-${suffix}`;
    const cases = [
      { claim: 'unknown', kmsKeyId: unknown, expect: `kmsKeyId: KMS key ${unknown} not found in ${tb.region}` },
      { claim: 'disabled', kmsKeyId: off?.KeyId ?? '', expect: `kmsKeyId: ${off?.KeyId}: KMS key ${off?.Arn} is Disabled, not Enabled` },
      { claim: 'good', kmsKeyId: alias, expect: '' },
    ];
    for (const c of cases) {
      const sc = await makeClass(`ebs-kms-${c.claim}`, { type: 'gp3', encrypted: 'true', kmsKeyId: c.kmsKeyId });
      await kube.create(PVC, claim(ns, c.claim, sc, '2Gi'));
    }
    for (const c of cases.filter((x) => x.expect)) {
      const ev = await waitFor(`ProvisioningFailed on ${c.claim}`, async () => (await eventsFor(ns, c.claim)).find((e) => e.reason === 'ProvisioningFailed'));
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(c.expect);
      const pvc = await kube.get<PersistentVolumeClaim>(PVC, c.claim, ns);
      expect(pvc?.status?.phase).toBe('Pending');
      const av = await kube.get<AwsVolume>(AWS_VOLUME_TYPE, `pvc-${pvc?.metadata?.uid}`);
      expect(av?.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidKmsKey', message: expect.stringContaining(c.expect) });
      expect(av?.status?.volumeId).toBeUndefined();
    }
    const good = await boundClaim(ns, 'good');
    const av = await awsVolumeOf(good.spec?.volumeName ?? '');
    expect(av.spec.kmsKeyId).toBe(alias);
    expect(await describeVolume(av.status?.volumeId ?? '')).toMatchObject({ Encrypted: true, KmsKeyId: key?.Arn });
    // Only the good claim got a volume.
    expect((await volumesTagged(PVC_NAMESPACE_TAG, ns)).map((v) => tagMap(v)[PVC_NAME_TAG])).toEqual(['good']);

    for (const c of cases) await kube.delete(PVC, { name: c.claim, namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(av.status?.volumeId ?? '')));
    await waitFor('failed AwsVolumes gone with their claims', async () => (await kube.list<AwsVolume>(AWS_VOLUME_TYPE)).items.every((a) => a.spec.claimRef?.namespace !== ns));
    await kms.send(new DeleteAliasCommand({ AliasName: alias }));
    for (const k of [key, off]) await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k?.KeyId, PendingWindowInDays: 7 }));
    kms.destroy();
  });

  it('bad input on a hand-made AwsVolume: a zone without a cluster subnet is a condition, with no AWS call', async () => {
    const name = `hand-${suffix}`;
    await kube.create(AWS_VOLUME_TYPE, { apiVersion: AWS_VOLUME_TYPE.apiVersion, kind: 'AwsVolume', metadata: { name }, spec: { sizeGiB: 5, availabilityZone: 'cn-northwest-1c' } } as KubeObject);
    const av = await waitFor('condition InvalidZone', async () => {
      const a = await kube.get<AwsVolume>(AWS_VOLUME_TYPE, name);
      return a?.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'InvalidZone') ? a : undefined;
    });
    expect(av.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('spec.availabilityZone: cn-northwest-1c has no subnet tagged for cluster');
    expect(av.status?.volumeId).toBeUndefined();
    expect((await volumesTagged(PV_NAME_TAG, name)).length).toBe(0);
    await kube.delete(AWS_VOLUME_TYPE, { name });
    await waitFor('AwsVolume gone', async () => !(await kube.get(AWS_VOLUME_TYPE, name)));
  });

  it('attach to a node without a providerID: an attach error naming spec.providerID, no AttachVolume', async () => {
    // A Node object the simulator does not run (so no providerID) and a VolumeAttachment to it, as
    // the attach/detach controller would create for a pod scheduled there.
    const ns = await createNamespace('noprov');
    const sc = await makeClass('ebs-noprov', { type: 'gp3' });
    await kube.create(PVC, claim(ns, 'data', sc, '1Gi'));
    const pvName = (await boundClaim(ns, 'data')).spec?.volumeName ?? '';
    const av = await awsVolumeOf(pvName);
    const nodeName = `no-provider-${suffix}`;
    await kube.create(resources.Node, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'topology.kubernetes.io/zone': av.spec.availabilityZone ?? '' } } } as KubeObject);
    const vaName = `csi-test-${suffix}`;
    await kube.create(VA, { apiVersion: 'storage.k8s.io/v1', kind: 'VolumeAttachment', metadata: { name: vaName }, spec: { attacher: 'ebs.kube-iaas.dev', nodeName, source: { persistentVolumeName: pvName } } } as KubeObject);
    const va = await waitFor('attachError', async () => (await kube.get<VolumeAttachment>(VA, vaName))?.status?.attachError);
    expect(va.message).toContain('has no spec.providerID');
    expect((await describeVolume(av.status?.volumeId ?? ''))?.State).toBe('available');
    await kube.delete(VA, { name: vaName });
    await waitFor('VolumeAttachment gone', async () => !(await kube.get(VA, vaName)));
    await kube.delete(resources.Node, { name: nodeName });
    await kube.delete(PVC, { name: 'data', namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(av.status?.volumeId ?? '')));
  });
});
