import { describe, expect, it } from 'vitest';
import {
  CLUSTER_SHARED,
  LEGACY_CLUSTER_TAG,
  OWNER_CLUSTER_TAG,
  OWNER_UID_TAG,
  clusterTagKey,
  ownedTags,
  volumeTags,
} from '@kube-iaas/core/tags';
import { judgeAdoption } from '../../src/plan/adoption.ts';
import { claimLabelValue } from '../../src/translate/claim.ts';

const CLUSTER = 'int32bit-kubernetes';
const me = { kind: 'AwsVolume', name: 'import-me', uid: 'uid-me' };
const victim = { kind: 'AwsVolume', name: 'pvc-victim', uid: 'uid-victim' };

describe('judgeAdoption: which volumes an AwsVolume may use', () => {
  it('imports a volume nobody owns: untagged, shared with this cluster, legacy-tagged, or handed over by Retain', () => {
    expect(judgeAdoption('vol-1', {}, CLUSTER, me)).toEqual({ ok: true, ours: false });
    expect(judgeAdoption('vol-1', { [clusterTagKey(CLUSTER)]: CLUSTER_SHARED }, CLUSTER, me)).toEqual({ ok: true, ours: false });
    expect(judgeAdoption('vol-1', { [LEGACY_CLUSTER_TAG]: CLUSTER }, CLUSTER, me)).toEqual({ ok: true, ours: false });
    // What Retain leaves: the cluster tags and the created-for tags, no owner tags.
    expect(judgeAdoption('vol-1', { [clusterTagKey(CLUSTER)]: 'owned', [LEGACY_CLUSTER_TAG]: CLUSTER, ...volumeTags({ pvcName: 'a', pvcNamespace: 'b', pvName: 'c' }) }, CLUSTER, me)).toEqual({ ok: true, ours: false });
  });
  it('recognises its own volume by name and UID', () => {
    expect(judgeAdoption('vol-1', ownedTags(CLUSTER, me), CLUSTER, me)).toEqual({ ok: true, ours: true });
    // Handed to it by hand: owner tags naming it, without a UID (the guard accepts the same).
    const { [OWNER_UID_TAG]: _uid, ...byName } = ownedTags(CLUSTER, me);
    expect(judgeAdoption('vol-1', byName, CLUSTER, me)).toEqual({ ok: true, ours: true });
  });
  it("refuses another AwsVolume's volume, naming the owner and the field", () => {
    const v = judgeAdoption('vol-1', ownedTags(CLUSTER, victim), CLUSTER, me);
    expect(v).toEqual({ ok: false, message: expect.stringContaining('spec.volumeId: EBS volume vol-1 is owned by AwsVolume pvc-victim (uid uid-victim), not by this AwsVolume') });
  });
  it('refuses a volume of an earlier AwsVolume of the same name (another UID)', () => {
    expect(judgeAdoption('vol-1', ownedTags(CLUSTER, { ...me, uid: 'uid-old' }), CLUSTER, me)).toMatchObject({ ok: false, message: expect.stringContaining('(uid uid-old)') });
  });
  it('refuses volumes of another cluster, by its cluster tag or by kube-iaas owner tags', () => {
    expect(judgeAdoption('vol-1', { [clusterTagKey('other')]: 'owned' }, CLUSTER, me)).toMatchObject({ ok: false, message: expect.stringContaining('is tagged for cluster other, not int32bit-kubernetes') });
    expect(judgeAdoption('vol-1', { [LEGACY_CLUSTER_TAG]: 'other' }, CLUSTER, me)).toMatchObject({ ok: false });
    expect(judgeAdoption('vol-1', { [OWNER_CLUSTER_TAG]: 'other', 'kube-iaas.dev/owner-kind': 'AwsVolume', 'kube-iaas.dev/owner': 'import-me', [OWNER_UID_TAG]: 'uid-me' }, CLUSTER, me)).toMatchObject({
      ok: false,
      message: expect.stringContaining('of kube-iaas cluster other'),
    });
  });
  it('refuses incomplete owner tags it cannot attribute, listing them', () => {
    expect(judgeAdoption('vol-1', { [OWNER_UID_TAG]: 'uid-x' }, CLUSTER, me)).toMatchObject({ ok: false, message: expect.stringContaining(`another owner (${OWNER_UID_TAG}=uid-x)`) });
  });
});

describe('claimLabelValue', () => {
  it('keeps names of up to 63 characters', () => {
    expect(claimLabelValue('data')).toBe('data');
    expect(claimLabelValue('x'.repeat(63))).toBe('x'.repeat(63));
  });
  it('shortens longer names to 63 characters: a prefix and a hash of the whole name', () => {
    const a = claimLabelValue(`${'a'.repeat(200)}.one`);
    const b = claimLabelValue(`${'a'.repeat(200)}.two`);
    expect(a).toMatch(/^a{46}-[0-9a-f]{16}$/);
    expect(b).toHaveLength(63);
    expect(a).not.toBe(b);
    expect(claimLabelValue(`${'a'.repeat(200)}.one`)).toBe(a);
  });
});
