// The orphan sweep on the testbed, with a short grace period: a volume tagged as ours for an AwsVolume
// that no longer exists is reported and, once available and older than the grace period, deleted; one
// that is in use or younger is only reported; a volume of another cluster or an untagged one is never
// touched. The volumes are made straight through moto, as a crash or a deleted CRD would leave them.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AttachVolumeCommand, CreateVolumeCommand, DeleteVolumeCommand, DetachVolumeCommand } from '@aws-sdk/client-ec2';
import { nameTag, ownedTags, toTagSpecifications, type Tags } from '@kube-iaas/core/tags';
import { OperatorProcess, repoRoot } from '@kube-iaas/testbed/testing';
import { describeVolume, ec2, eventsFor, instanceOf, nodes, sleep, tb, waitFor, zoneOf } from './harness.ts';

const ZONE = 'cn-northwest-1a';
const GRACE_S = 12;
const suffix = Math.random().toString(36).slice(2, 6);
let op: OperatorProcess;
const made: { id: string; instanceId?: string }[] = [];

async function volume(tags: Tags): Promise<string> {
  const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: ZONE, Size: 1, VolumeType: 'gp3', TagSpecifications: toTagSpecifications('volume', tags) }));
  made.push({ id: v.VolumeId ?? '' });
  return v.VolumeId ?? '';
}

const ours = (name: string, cluster = tb.clusterName): Tags => ownedTags(cluster, { kind: 'AwsVolume', name, uid: `uid-${name}` }, nameTag(name));

async function orphanEvents(awsVolumeName: string): Promise<string[]> {
  return (await eventsFor('default', awsVolumeName)).filter((e) => e.reason === 'OrphanedVolume' && e.type === 'Warning').map((e) => e.message ?? '');
}

beforeAll(async () => {
  op = await OperatorProcess.start(join(repoRoot(), 'packages', 'volume-operator', 'src', 'main.ts'), [
    '--leader-elect=false',
    '--orphan-scan-interval=1s',
    `--orphan-grace-period=${GRACE_S}s`,
  ]);
});

afterAll(async () => {
  await op?.stop();
  for (const v of made) if (v.instanceId) await ec2.send(new DetachVolumeCommand({ VolumeId: v.id, InstanceId: v.instanceId })).catch(() => undefined);
  for (const v of made) await ec2.send(new DeleteVolumeCommand({ VolumeId: v.id })).catch(() => undefined);
});

it('orphans: an old available volume of a deleted AwsVolume is reported and deleted; in-use and young ones are only reported; other clusters and untagged volumes are left alone', async () => {
  const names = { old: `pvc-gone-old-${suffix}`, inUse: `pvc-gone-inuse-${suffix}`, young: `pvc-gone-young-${suffix}`, foreign: `pvc-foreign-${suffix}` };
  const old = await volume(ours(names.old));
  const inUse = await volume(ours(names.inUse));
  const instanceId = instanceOf((await nodes()).find((n) => zoneOf(n) === ZONE)) ?? '';
  await ec2.send(new AttachVolumeCommand({ VolumeId: inUse, InstanceId: instanceId, Device: '/dev/xvdqz' }));
  made[1] = { id: inUse, instanceId };
  const foreign = await volume(ours(names.foreign, 'another-cluster'));
  const untagged = await volume(nameTag(`untagged-${suffix}`));

  await sleep((GRACE_S / 2) * 1000);
  const young = await volume(ours(names.young));

  await waitFor('the old orphan deleted', async () => !(await describeVolume(old)), (GRACE_S + 30) * 1000);
  // Checked right away: the young one is still within the grace period.
  expect((await describeVolume(young))?.State).toBe('available');
  expect((await describeVolume(inUse))?.State).toBe('in-use');
  expect((await describeVolume(foreign))?.State).toBe('available');
  expect((await describeVolume(untagged))?.State).toBe('available');

  expect((await orphanEvents(names.old)).some((m) => m.includes(`EBS volume ${old} (available`) && m.endsWith('; deleting it'))).toBe(true);
  const inUseEvents = await orphanEvents(names.inUse);
  expect(inUseEvents.some((m) => m.includes(`EBS volume ${inUse} (in-use`))).toBe(true);
  expect(inUseEvents.some((m) => m.includes('deleting it'))).toBe(false);
  const youngEvents = await waitFor('OrphanedVolume for the young one', async () => ((await orphanEvents(names.young)).length ? orphanEvents(names.young) : undefined));
  expect(youngEvents.some((m) => m.includes(`EBS volume ${young} (available`) && !m.includes('deleting it'))).toBe(true);
  expect(await orphanEvents(names.foreign)).toEqual([]);

  const metrics = await op.metrics();
  expect(Number(/^kube_iaas_volume_orphans_deleted_total (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
  expect(Number(/^kube_iaas_volume_orphans (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
});
