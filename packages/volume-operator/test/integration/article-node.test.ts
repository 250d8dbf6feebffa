// The article's §3 end to end, node half included: StorageClass + PVC + pod → an EBS volume in moto,
// attached by the operator, and on the node a real mount made by the real node plugin, which the
// testbed's node simulator runs per node on file-backed loop devices and calls as kubelet does.
// Needs root and loop devices (the simulator otherwise mounts nothing and says so in its log).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { blockPublishPath, loopsBackedUnder, mountsUnder, nodeSimStorage, podVolumePath } from '@kube-iaas/testbed/testing';
import { DRIVER_NAME } from '../../src/constants.ts';
import type { PersistentVolume, PersistentVolumeClaim } from '../../src/translate/index.ts';
import { claim, createNamespace, describeVolume, ec2, ensureNodeRegistration, eventsFor, instanceOf, kube, nodes, podWithClaim, startOperator, storageClass, tb, waitFor, zoneOf, type RunningOperator } from './harness.ts';

const PVC = resources.PersistentVolumeClaim;
const PV = resources.PersistentVolume;
const POD = resources.Pod;
const SC = resources.StorageClass;
const GiB = 1024 ** 3;

type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string; containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[] } };

const store = nodeSimStorage();
const suffix = Math.random().toString(36).slice(2, 6);
const classes: string[] = [];
let op: RunningOperator;
let ns: string;
let before: { loops: number; mounts: number };

const counts = () => ({ loops: loopsBackedUnder(store.root).length, mounts: mountsUnder(store.root).length });

/** The mountinfo line of a mount point: source device and filesystem type. */
function mountOf(path: string): { fstype: string; source: string } | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (left?.split(' ')[4] !== path || !right) continue;
    const [fstype, source] = right.split(' ');
    return { fstype: fstype ?? '', source: source ?? '' };
  }
  return undefined;
}

/** CAP_SYS_RESOURCE (bit 24) in this process's effective set: ext4 online resize needs it. */
function hasSysResource(): boolean {
  const hex = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return (BigInt(`0x${hex}`) & (1n << 24n)) !== 0n;
}

async function makeClass(base: string, parameters: Record<string, string>, over: Record<string, unknown> = {}): Promise<string> {
  const name = `${base}-${suffix}`;
  await kube.create(SC, storageClass(name, parameters, { volumeBindingMode: 'WaitForFirstConsumer', ...over }));
  classes.push(name);
  return name;
}

async function runningPod(name: string): Promise<Pod> {
  return waitFor(
    `pod ${ns}/${name} Running`,
    async () => {
      const p = await kube.get<Pod>(POD, name, ns);
      return p?.status?.phase === 'Running' ? p : undefined;
    },
    120_000,
  );
}

async function deletePod(name: string): Promise<void> {
  await kube.delete(POD, { name, namespace: ns });
  await waitFor(`pod ${ns}/${name} gone`, async () => !(await kube.get(POD, name, ns)), 60_000);
}

async function pvOf(claimName: string): Promise<PersistentVolume> {
  const c = await waitFor(`claim ${claimName} bound`, async () => {
    const x = await kube.get<PersistentVolumeClaim>(PVC, claimName, ns);
    return x?.spec?.volumeName ? x : undefined;
  });
  return (await kube.get<PersistentVolume>(PV, c.spec!.volumeName!))!;
}

async function nodeOfPod(p: Pod): Promise<{ name: string; instanceId: string; zone: string }> {
  const n = (await nodes()).find((x) => x.metadata?.name === p.spec?.nodeName);
  return { name: n?.metadata?.name ?? '', instanceId: instanceOf(n) ?? '', zone: zoneOf(n) ?? '' };
}

const onNode = (nodeName: string) => ({ nodeSelector: { 'kubernetes.io/hostname': nodeName } });

describe('the article on the node: CSI node plugin driven by the testbed as kubelet', () => {
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root and loop devices (real mounts); CI runs as root');
    await ensureNodeRegistration();
    before = counts();
    op = await startOperator();
    ns = await createNamespace('article-node');
  });

  afterAll(async () => {
    if (ns) {
      for (const p of (await kube.list<Pod>(POD, { namespace: ns })).items) await kube.delete(POD, { name: p.metadata!.name!, namespace: ns }).catch(() => undefined);
      await waitFor('pods gone', async () => (await kube.list(POD, { namespace: ns })).items.length === 0, 60_000).catch(() => undefined);
      await kube.delete(resources.Namespace, { name: ns }).catch(() => undefined);
    }
    // Detach, then the loop devices go: the machine holds what it held before the test.
    const left = await waitFor('loop devices and mounts back to the count before', async () => {
      const now = counts();
      return now.loops <= before.loops && now.mounts <= before.mounts ? now : undefined;
    }, 120_000).catch((e: Error) => e);
    for (const c of classes) await kube.delete(SC, { name: c }).catch(() => undefined);
    await op?.stop();
    if (left instanceof Error) throw left;
  });

  it('gp3 ext4: mounted at the pod path on a loop device; data follows the volume to another node of the zone', async () => {
    const sc = await makeClass('article-ext4', { type: 'gp3', 'csi.storage.k8s.io/fstype': 'ext4' });
    await kube.create(PVC, claim(ns, 'data', sc, '1Gi'));
    // Two nodes share the first zone in the testbed's plan: start on one, move to the other.
    const byZone = new Map<string, string[]>();
    for (const n of await nodes()) byZone.set(zoneOf(n) ?? '', [...(byZone.get(zoneOf(n) ?? '') ?? []), n.metadata!.name!]);
    const pair = [...byZone.values()].find((names) => names.length >= 2)!;
    expect(pair, 'a zone with two nodes').toBeDefined();

    await kube.create(POD, podWithClaim(ns, 'writer', 'data', onNode(pair[0]!)));
    const writer = await runningPod('writer');
    const pv = await pvOf('data');
    const node1 = await nodeOfPod(writer);
    const target = podVolumePath(store.kubelet(node1.instanceId), writer.metadata!.uid!, pv.metadata!.name!);
    const m = mountOf(target);
    expect(m, `a mount at ${target}`).toBeDefined();
    expect(m!.fstype).toBe('ext4');
    expect(m!.source).toMatch(/^\/dev\/loop\d+$/);
    // findmnt and blkid see the same: the device under the pod's path is the volume's loop device, ext4.
    expect(execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '--mountpoint', target], { encoding: 'utf8' }).trim()).toBe('ext4');
    expect(execFileSync('blkid', ['-p', '-o', 'value', '-s', 'TYPE', m!.source], { encoding: 'utf8' }).trim()).toBe('ext4');
    const backing = loopsBackedUnder(store.dataFile(pv.spec!.csi!.volumeHandle));
    expect(backing.map((l) => l.name)).toEqual([m!.source]);
    writeFileSync(`${target}/index.html`, 'hello from the first node\n');
    // As kubelet: the node reports the mounted volume in use, so the attach/detach controller holds it until unmounted.
    const inUse = (await nodes()).find((n) => n.metadata?.name === node1.name) as { status?: { volumesInUse?: string[] } } | undefined;
    expect(inUse?.status?.volumesInUse).toContain(`kubernetes.io/csi/${DRIVER_NAME}^${pv.spec!.csi!.volumeHandle}`);

    await deletePod('writer');
    // A pod with terminationGracePeriodSeconds 0 is removed at once; kubelet unmounts after, as here.
    await waitFor('the pod path unmounted', async () => mountOf(target) === undefined, 30_000);
    // NodeUnstage follows NodeUnpublish: the staging mount goes a moment after the pod's.
    await waitFor('no mount left under the node\'s kubelet dir', async () => mountsUnder(store.kubelet(node1.instanceId)).length === 0, 30_000);
    // Unmounted, so the attach/detach controller detaches; then the node's loop device goes, the data stays.
    await waitFor('volume detached in moto', async () => (await describeVolume(pv.spec!.csi!.volumeHandle))?.State === 'available', 90_000);
    await waitFor('loop device removed', async () => loopsBackedUnder(store.dataFile(pv.spec!.csi!.volumeHandle)).length === 0, 30_000);
    expect(existsSync(store.dataFile(pv.spec!.csi!.volumeHandle))).toBe(true);

    await kube.create(POD, podWithClaim(ns, 'reader', 'data', onNode(pair[1]!)));
    const reader = await runningPod('reader');
    const node2 = await nodeOfPod(reader);
    expect(node2.name).not.toBe(node1.name);
    expect(node2.zone).toBe(node1.zone);
    const target2 = podVolumePath(store.kubelet(node2.instanceId), reader.metadata!.uid!, pv.metadata!.name!);
    expect(mountOf(target2)?.fstype).toBe('ext4');
    expect(readFileSync(`${target2}/index.html`, 'utf8')).toBe('hello from the first node\n');
    await deletePod('reader');
  });

  it('growing the claim grows the filesystem the pod sees (statfs)', async () => {
    // ext4 grows online only with CAP_SYS_RESOURCE (resize2fs's ioctl); without it xfs shows the same flow.
    const fsType = hasSysResource() ? 'ext4' : 'xfs';
    const sc = await makeClass('article-grow', { type: 'gp3', 'csi.storage.k8s.io/fstype': fsType });
    await kube.create(PVC, claim(ns, 'grow', sc, '1Gi'));
    await kube.create(POD, podWithClaim(ns, 'grower', 'grow'));
    const pod = await runningPod('grower');
    const pv = await pvOf('grow');
    const target = podVolumePath(store.kubelet((await nodeOfPod(pod)).instanceId), pod.metadata!.uid!, pv.metadata!.name!);
    expect(mountOf(target)?.fstype).toBe(fsType);
    const size = () => {
      const s = statfsSync(target);
      return s.blocks * s.bsize;
    };
    const small = size();
    expect(small).toBeLessThan(GiB);
    await kube.patch(PVC, { name: 'grow', namespace: ns }, { spec: { resources: { requests: { storage: '2Gi' } } } });
    await waitFor(
      'claim capacity 2Gi',
      async () => (await kube.get<PersistentVolumeClaim>(PVC, 'grow', ns))?.status?.capacity?.storage === '2Gi',
      120_000,
    );
    expect(size()).toBeGreaterThan(small + GiB / 2);
    expect(size()).toBeLessThanOrEqual(2 * GiB);
    await deletePod('grower');
  });

  it('volumeMode: Block gives the pod a block device, never formatted', async () => {
    const sc = await makeClass('article-block', { type: 'gp3' });
    await kube.create(PVC, { ...claim(ns, 'raw', sc, '1Gi'), spec: { accessModes: ['ReadWriteOnce'], storageClassName: sc, volumeMode: 'Block', resources: { requests: { storage: '1Gi' } } } } as KubeObject);
    await kube.create(POD, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'raw-user', namespace: ns },
      spec: { containers: [{ name: 'db', image: 'db', volumeDevices: [{ name: 'raw', devicePath: '/dev/xvda' }] }], volumes: [{ name: 'raw', persistentVolumeClaim: { claimName: 'raw' } }], terminationGracePeriodSeconds: 0 },
    } as KubeObject);
    const pod = await runningPod('raw-user');
    const pv = await pvOf('raw');
    const path = blockPublishPath(store.kubelet((await nodeOfPod(pod)).instanceId), pv.metadata!.name!, pod.metadata!.uid!);
    expect(statSync(path).isBlockDevice()).toBe(true);
    // blkid finds nothing on it: exit 2.
    const r = (() => {
      try {
        execFileSync('blkid', ['-p', path], { stdio: 'ignore' });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    })();
    expect(r).toBe(2);
    await deletePod('raw-user');
    await waitFor('the block publish file removed', async () => !existsSync(path), 30_000);
  });

  it('a volume that holds another filesystem is refused with a pod Event, and its data is left intact', async () => {
    // An existing volume (made outside the cluster) that holds xfs, brought in as a static PV that says ext4.
    const zone = zoneOf((await nodes())[0]) ?? '';
    // Tagged as the cluster's: the operator changes (attaches) only volumes the cluster owns.
    const TagSpecifications = [{ ResourceType: 'volume' as const, Tags: [{ Key: `kubernetes.io/cluster/${tb.clusterName}`, Value: 'owned' }] }];
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: zone, Size: 1, VolumeType: 'gp3', TagSpecifications }));
    const volumeId = vol.VolumeId!;
    const file = store.dataFile(volumeId);
    try {
      execFileSync('truncate', ['-s', '1G', file]);
      execFileSync('mkfs.xfs', ['-q', '-L', 'other', file]);
      const digest = () => createHash('sha256').update(readFileSync(file)).digest('hex');
      const was = digest();
      const pvName = `static-${suffix}`;
      await kube.create(PV, {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: pvName },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: '',
          claimRef: { namespace: ns, name: 'static' },
          csi: { driver: DRIVER_NAME, volumeHandle: volumeId, fsType: 'ext4' },
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }] }] } },
        },
      } as KubeObject);
      await kube.create(PVC, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'static', namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', volumeName: pvName, resources: { requests: { storage: '1Gi' } } } } as KubeObject);
      await kube.create(POD, podWithClaim(ns, 'victim', 'static'));
      const ev = await waitFor(
        'FailedMount Event naming the other filesystem',
        async () => (await eventsFor(ns, 'victim')).find((e) => e.reason === 'FailedMount' && /FailedPrecondition/.test(e.message ?? '')),
        120_000,
      );
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(volumeId);
      expect(ev.message).toMatch(/xfs/);
      const p = await kube.get<Pod>(POD, 'victim', ns);
      expect(p?.status?.phase).toBe('Pending');
      expect(p?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
      expect(p?.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/MountVolume\.MountDevice failed .*FailedPrecondition/);
      await deletePod('victim');
      await waitFor('static volume detached', async () => (await describeVolume(volumeId))?.State === 'available', 90_000);
      expect(execFileSync('blkid', ['-p', '-o', 'value', '-s', 'TYPE', file], { encoding: 'utf8' }).trim()).toBe('xfs');
      expect(digest()).toBe(was);
      await kube.delete(PVC, { name: 'static', namespace: ns });
      await kube.delete(PV, { name: pvName });
    } finally {
      await ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })).catch(() => undefined);
      rmSync(file, { force: true });
    }
  });
});
