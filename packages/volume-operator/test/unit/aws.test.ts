import { describe, expect, it } from 'vitest';
import { CLUSTER_OWNED, LEGACY_CLUSTER_TAG, NAME_TAG, OWNER_UID_TAG, PVC_NAME_TAG, PV_NAME_TAG, clusterTagKey } from '@kube-iaas/core/tags';
import type { AwsVolume } from '@kube-iaas/crds';
import { DescribeBatcher } from '../../src/aws/batch.ts';
import { clientToken, tagsForVolume } from '../../src/aws/ebs.ts';
import { csiDriverObject } from '../../src/operator.ts';

const av: AwsVolume = {
  apiVersion: 'storage.kube-iaas.dev/v1alpha1',
  kind: 'AwsVolume',
  metadata: { name: 'pvc-1', uid: 'u-1' },
  spec: { sizeGiB: 30, availabilityZone: 'cn-northwest-1a', claimRef: { namespace: 'default', name: 'data', uid: 'c-1' }, tags: { team: 'storage' } },
};

describe('EBS request shapes', () => {
  it('tags a volume with cluster, owner, created-for, Name and extra tags', () => {
    const t = tagsForVolume('int32bit-kubernetes', av);
    expect(t).toMatchObject({
      [clusterTagKey('int32bit-kubernetes')]: CLUSTER_OWNED,
      [LEGACY_CLUSTER_TAG]: 'int32bit-kubernetes',
      [OWNER_UID_TAG]: 'u-1',
      [PVC_NAME_TAG]: 'data',
      [PV_NAME_TAG]: 'pvc-1',
      [NAME_TAG]: 'int32bit-kubernetes-dynamic-pvc-1',
      team: 'storage',
    });
  });
  it('derives the client token from the AwsVolume UID, within 64 characters', () => {
    expect(clientToken(av)).toBe('kube-iaas-u-1');
    expect(clientToken({ ...av, metadata: { name: 'x', uid: 'a'.repeat(80) } }).length).toBe(64);
  });
  it('declares the CSIDriver with attachRequired', () => {
    expect(csiDriverObject()).toMatchObject({ metadata: { name: 'ebs.kube-iaas.dev' }, spec: { attachRequired: true, volumeLifecycleModes: ['Persistent'] } });
  });
});

describe('DescribeBatcher', () => {
  it('coalesces concurrent lookups into one call and answers each key', async () => {
    const calls: string[][] = [];
    const b = new DescribeBatcher<string>(async (keys) => {
      calls.push(keys);
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, [`v-${k}`]]));
    }, { windowMs: 5 });
    const r = await Promise.all([b.get('a'), b.get('b'), b.get('a'), b.get('missing')]);
    expect(r).toEqual([['v-a'], ['v-b'], ['v-a'], []]);
    expect(calls).toEqual([['a', 'b', 'missing']]);
  });
  it('rejects every waiter of a failed batch, and flushes at maxBatch', async () => {
    let n = 0;
    const b = new DescribeBatcher<string>(async (keys) => {
      n++;
      if (keys.includes('boom')) throw new Error('throttled');
      return new Map();
    }, { windowMs: 1000, maxBatch: 2 });
    await expect(Promise.all([b.get('x'), b.get('boom')])).rejects.toThrow('throttled');
    expect(n).toBe(1);
  });
});
