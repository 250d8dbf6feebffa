// Killing the operator between CreateVolume and the PV write, then starting it again, yields exactly
// one EBS volume. The crash is real: an HTTP relay between the operator and moto passes CreateVolume
// through to moto, then SIGKILLs the operator before it can see the answer.
import { crashRelay, type CrashRelay } from '@kube-iaas/testbed/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PVC_NAMESPACE_TAG } from '@kube-iaas/core/tags';
import { resources } from '@kube-iaas/core/runtime';
import type { AwsVolume } from '@kube-iaas/crds';
import { AWS_VOLUME_TYPE } from '../../src/constants.ts';
import type { PersistentVolumeClaim } from '../../src/translate/index.ts';
import { claim, createNamespace, ensureNodeRegistration, kube, startOperator, storageClass, volumesTagged, waitFor, type RunningOperator } from './harness.ts';

let relay: CrashRelay | undefined;
let relayUrl = '';
let victim: RunningOperator | undefined;
let creates = 0;
const scName = `ebs-crash-${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  await ensureNodeRegistration();
  // The volume exists in "AWS" once the create passes; the operator dies before it learns its ID.
  relay = await crashRelay('CreateVolume', () => {
    if (!victim) return false;
    creates++;
    victim.proc.kill('SIGKILL');
    return true;
  });
  relayUrl = relay.url;
});

afterAll(async () => {
  await victim?.kill();
  relay?.close();
  await kube.delete(resources.StorageClass, { name: scName }).catch(() => undefined);
});

it('crash between CreateVolume and the PV write, then restart: exactly one volume, claim Bound to it', async () => {
  victim = await startOperator({ env: { AWS_ENDPOINT_URL: relayUrl } });
  const ns = await createNamespace('crash');
  await kube.create(resources.StorageClass, storageClass(scName, { type: 'gp3' }));
  await kube.create(resources.PersistentVolumeClaim, claim(ns, 'data', scName, '7Gi'));
  await waitFor('operator killed after CreateVolume', async () => victim?.proc.exitCode !== null || victim?.proc.signalCode !== null, 60_000);
  expect(creates).toBe(1);

  const afterCrash = await volumesTagged(PVC_NAMESPACE_TAG, ns);
  expect(afterCrash.length).toBe(1);
  const pvc = await kube.get<PersistentVolumeClaim>(resources.PersistentVolumeClaim, 'data', ns);
  const pvName = `pvc-${pvc?.metadata?.uid}`;
  const av = await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvName);
  expect(av?.status?.volumeId).toBeUndefined(); // the status write never happened
  expect(await kube.get(resources.PersistentVolume, pvName)).toBeUndefined();

  victim = undefined;
  const again = await startOperator();
  try {
    const bound = await waitFor('claim Bound after restart', async () => {
      const c = await kube.get<PersistentVolumeClaim>(resources.PersistentVolumeClaim, 'data', ns);
      return c?.status?.phase === 'Bound' ? c : undefined;
    });
    expect(bound.spec?.volumeName).toBe(pvName);
    const vols = await volumesTagged(PVC_NAMESPACE_TAG, ns);
    expect(vols.map((v) => v.VolumeId)).toEqual([afterCrash[0]?.VolumeId]);
    expect((await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvName))?.status?.volumeId).toBe(afterCrash[0]?.VolumeId);

    await kube.delete(resources.PersistentVolumeClaim, { name: 'data', namespace: ns });
    await waitFor('volume deleted', async () => (await volumesTagged(PVC_NAMESPACE_TAG, ns)).every((v) => v.State === 'deleted'));
  } finally {
    await again.stop();
  }
});
