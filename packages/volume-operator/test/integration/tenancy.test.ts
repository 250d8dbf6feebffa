// Safety between tenants (issue #22) on the testbed: a hand-written AwsVolume that imports a volume
// another owner holds is refused before any PV exists and goes away without touching it; a deletion
// the guard refuses is retried until the volume is gone; claims with the longest legal names get a
// volume; a claim whose AwsVolume the API server refuses says why.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import {
  CLUSTER_SHARED,
  PVC_NAMESPACE_TAG,
  PVC_NAME_TAG,
  clusterTagKey,
  nameTag,
  ownedTags,
  toTagSpecifications,
  type Tags,
} from '@kube-iaas/core/tags';
import { resources, type KubeObject, type ResourceType } from '@kube-iaas/core/runtime';
import type { AwsVolume } from '@kube-iaas/crds';
import { OperatorProcess, mutatingDelta, repoRoot } from '@kube-iaas/testbed/testing';
import { AWS_VOLUME_TYPE, CLAIM_NAMESPACE_LABEL, CLAIM_NAME_LABEL } from '../../src/constants.ts';
import type { PersistentVolume, PersistentVolumeClaim, VolumeAttachment } from '../../src/translate/index.ts';
import { boundClaim, claim, createNamespace, describeVolume, ec2, ensureNodeRegistration, eventsFor, kube, podWithClaim, sleep, storageClass, tagMap, tb, volumesTagged, waitFor } from './harness.ts';

const PVC = resources.PersistentVolumeClaim;
const PV = resources.PersistentVolume;
const POD = resources.Pod;
const SC = resources.StorageClass;
const NS = resources.Namespace;
const VAP: ResourceType = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', namespaced: false };
const VAPB: ResourceType = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', plural: 'validatingadmissionpolicybindings', namespaced: false };
const ZONE = 'cn-northwest-1a';
// Short so a deletion retried with backoff finishes within the test once its cause is gone.
const BACKOFF_MAX = '4s';

const suffix = Math.random().toString(36).slice(2, 6);
let op: OperatorProcess;
const classes: string[] = [];
const madeVolumes: string[] = [];

async function makeClass(base: string): Promise<string> {
  const name = `${base}-${suffix}`;
  await kube.create(SC, storageClass(name, { type: 'gp3' }));
  classes.push(name);
  return name;
}

async function volumeWith(tags: Tags): Promise<string> {
  const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: ZONE, Size: 1, VolumeType: 'gp3', ...(Object.keys(tags).length ? { TagSpecifications: toTagSpecifications('volume', tags) } : {}) }));
  madeVolumes.push(v.VolumeId ?? '');
  return v.VolumeId ?? '';
}

function handMade(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: AWS_VOLUME_TYPE.apiVersion, kind: 'AwsVolume', metadata: { name }, spec: { sizeGiB: 1, ...spec } } as KubeObject;
}

async function readyCondition(name: string, reason: string): Promise<{ status: string; reason?: string; message?: string }> {
  return waitFor(`AwsVolume ${name} Ready reason ${reason}`, async () => {
    const c = (await kube.get<AwsVolume>(AWS_VOLUME_TYPE, name))?.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.reason === reason ? c : undefined;
  });
}

beforeAll(async () => {
  await ensureNodeRegistration();
  op = await OperatorProcess.start(join(repoRoot(), 'packages', 'volume-operator', 'src', 'main.ts'), ['--leader-elect=false', '--orphan-scan-interval=0', `--backoff-max=${BACKOFF_MAX}`]);
});

afterAll(async () => {
  await op?.stop();
  for (const c of classes) await kube.delete(SC, { name: c }).catch(() => undefined);
  for (const id of madeVolumes) await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
});

describe('volume-operator: safety between tenants', () => {
  it('an AwsVolume importing a volume another AwsVolume owns is refused with Conflict before any PV, and deleting it leaves the victim alone', async () => {
    // The victim: a claim of the class, bound, its volume attached where its pod runs.
    const victimNs = await createNamespace('p-victim');
    const sc = await makeClass('ebs-victim');
    await kube.create(PVC, claim(victimNs, 'data', sc, '1Gi'));
    const victimPvc = await boundClaim(victimNs, 'data');
    const victimPv = victimPvc.spec?.volumeName ?? '';
    await kube.create(POD, podWithClaim(victimNs, 'app', 'data'));
    await waitFor('victim pod Running', async () => (await kube.get<KubeObject & { status?: { phase?: string } }>(POD, 'app', victimNs))?.status?.phase === 'Running', 90_000);
    const victimVolume = (await kube.get<PersistentVolume>(PV, victimPv))?.spec?.csi?.volumeHandle ?? '';
    await waitFor('victim volume in-use', async () => (await describeVolume(victimVolume))?.State === 'in-use');
    const victimTags = tagMap(await describeVolume(victimVolume));
    const before = await op.awsCalls();

    // The thief: a static claim in its own namespace and an AwsVolume naming the victim's volume.
    const evilNs = await createNamespace('p-evil');
    await kube.create(PVC, { ...claim(evilNs, 'thief', '', '1Gi') });
    const thiefPvc = await kube.get<PersistentVolumeClaim>(PVC, 'thief', evilNs);
    const thief = `thief-${suffix}`;
    await kube.create(AWS_VOLUME_TYPE, handMade(thief, { volumeId: victimVolume, claimRef: { namespace: evilNs, name: 'thief', uid: thiefPvc?.metadata?.uid } }));

    const cond = await readyCondition(thief, 'Conflict');
    expect(cond.status).toBe('False');
    expect(cond.message).toContain(`spec.volumeId: EBS volume ${victimVolume} is owned by AwsVolume ${victimPv}`);
    const warn = await waitFor('ProvisioningFailed on the thief claim', async () => (await eventsFor(evilNs, 'thief')).find((e) => e.reason === 'ProvisioningFailed'));
    expect(warn.type).toBe('Warning');
    expect(warn.message).toContain('is owned by AwsVolume');
    // No PV for the thief, not now and not a little later; its claim stays Pending.
    await sleep(3000);
    expect(await kube.get(PV, thief)).toBeUndefined();
    expect((await kube.get<AwsVolume>(AWS_VOLUME_TYPE, thief))?.status?.volumeId).toBeUndefined();
    expect((await kube.get<PersistentVolumeClaim>(PVC, 'thief', evilNs))?.status?.phase).toBe('Pending');

    // Deleting the refused AwsVolume finishes at once and touches nothing of the victim's.
    await kube.delete(AWS_VOLUME_TYPE, { name: thief });
    await waitFor('thief AwsVolume gone', async () => !(await kube.get(AWS_VOLUME_TYPE, thief)), 20_000);
    expect(mutatingDelta(before, await op.awsCalls())).toEqual({});
    const victim = await describeVolume(victimVolume);
    expect(victim?.State).toBe('in-use');
    expect(tagMap(victim)).toEqual(victimTags);
    expect((await kube.get<PersistentVolumeClaim>(PVC, 'data', victimNs))?.status?.phase).toBe('Bound');
    expect((await kube.get<PersistentVolume>(PV, victimPv))?.spec?.claimRef?.uid).toBe(victimPvc.metadata?.uid);
    expect((await kube.get<KubeObject & { status?: { phase?: string } }>(POD, 'app', victimNs))?.status?.phase).toBe('Running');
    const vas = (await kube.list<VolumeAttachment>(resources.VolumeAttachment)).items.filter((va) => va.spec.source.persistentVolumeName === victimPv);
    expect(vas.map((va) => va.status?.attached)).toEqual([true]);

    await kube.delete(POD, { name: 'app', namespace: victimNs });
    await kube.delete(PVC, { name: 'data', namespace: victimNs });
    await kube.delete(PVC, { name: 'thief', namespace: evilNs });
    await waitFor('victim volume deleted with its claim', async () => !(await describeVolume(victimVolume)), 120_000);
  });

  it('import rules: an untagged or shared volume is imported; one tagged for another cluster or left by a deleted AwsVolume is refused; tags untouched', async () => {
    const cases = [
      { name: `imp-untagged-${suffix}`, tags: {}, reason: 'Available' },
      { name: `imp-shared-${suffix}`, tags: { [clusterTagKey(tb.clusterName)]: CLUSTER_SHARED }, reason: 'Available' },
      { name: `imp-other-${suffix}`, tags: { [clusterTagKey('other-cluster')]: 'owned' }, reason: 'Conflict', expect: 'is tagged for cluster other-cluster' },
      {
        name: `imp-leftover-${suffix}`,
        tags: ownedTags(tb.clusterName, { kind: 'AwsVolume', name: `gone-${suffix}`, uid: `uid-gone-${suffix}` }, nameTag(`gone-${suffix}`)),
        reason: 'Conflict',
        expect: `is owned by AwsVolume gone-${suffix} (uid uid-gone-${suffix})`,
      },
    ];
    const ids: string[] = [];
    for (const c of cases) {
      const id = await volumeWith(c.tags);
      ids.push(id);
      // Retain: deleting the AwsVolume afterwards must not try to delete a volume it only imported.
      await kube.create(AWS_VOLUME_TYPE, handMade(c.name, { volumeId: id, reclaimPolicy: 'Retain' }));
    }
    for (const [i, c] of cases.entries()) {
      const cond = await readyCondition(c.name, c.reason);
      if (c.expect) {
        expect(cond.message).toContain(c.expect);
        expect(await kube.get(PV, c.name)).toBeUndefined();
      } else {
        expect((await kube.get<PersistentVolume>(PV, c.name))?.spec?.csi?.volumeHandle).toBe(ids[i]);
      }
    }
    for (const c of cases) await kube.delete(AWS_VOLUME_TYPE, { name: c.name });
    await waitFor('imports deleted', async () => (await Promise.all(cases.map((c) => kube.get(AWS_VOLUME_TYPE, c.name)))).every((a) => !a), 30_000);
    for (const [i, c] of cases.entries()) expect(tagMap(await describeVolume(ids[i] ?? ''))).toEqual(c.tags);
    for (const c of cases) await kube.delete(PV, { name: c.name });
  });

  it('a deletion the guard refuses (an imported untagged volume, reclaim Delete) is retried with backoff and finishes once the volume is gone', async () => {
    const id = await volumeWith({});
    const name = `imp-delete-${suffix}`;
    await kube.create(AWS_VOLUME_TYPE, handMade(name, { volumeId: id }));
    await readyCondition(name, 'Available');
    await kube.delete(AWS_VOLUME_TYPE, { name });
    const synced = await waitFor('Synced=False DeleteVolumeFailed', async () =>
      (await kube.get<AwsVolume>(AWS_VOLUME_TYPE, name))?.status?.conditions?.find((c) => c.type === 'Synced' && c.reason === 'DeleteVolumeFailed'),
    );
    expect(synced.message).toContain(`DeleteVolume ${id}: OwnershipRefused`);
    // Held while the volume exists, untouched.
    await sleep(5000);
    expect(await kube.get(AWS_VOLUME_TYPE, name)).toBeDefined();
    expect((await describeVolume(id))?.State).toBe('available');
    // Someone deletes the volume by hand: the next retry finds nothing left to delete.
    await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    await waitFor('AwsVolume gone after its volume', async () => !(await kube.get(AWS_VOLUME_TYPE, name)), 30_000);
    await waitFor('its PV gone', async () => !(await kube.get(PV, name)));

    // The other way out: switching the deleting AwsVolume to Retain lets it go and keeps the volume.
    const kept = await volumeWith({});
    const name2 = `imp-keep-${suffix}`;
    await kube.create(AWS_VOLUME_TYPE, handMade(name2, { volumeId: kept }));
    await readyCondition(name2, 'Available');
    await kube.delete(AWS_VOLUME_TYPE, { name: name2 });
    await waitFor('Synced=False DeleteVolumeFailed', async () => (await kube.get<AwsVolume>(AWS_VOLUME_TYPE, name2))?.status?.conditions?.some((c) => c.reason === 'DeleteVolumeFailed'));
    await kube.patch(AWS_VOLUME_TYPE, { name: name2 }, { spec: { reclaimPolicy: 'Retain' } });
    await waitFor('AwsVolume gone with Retain', async () => !(await kube.get(AWS_VOLUME_TYPE, name2)), 30_000);
    expect(tagMap(await describeVolume(kept))).toEqual({});
    expect((await describeVolume(kept))?.State).toBe('available');
    await kube.delete(PV, { name: name2 });
  });

  it('a claim name of 253 characters in a namespace of 63 gets a volume: AwsVolume labels hashed, EBS tags with the full names', async () => {
    const ns = `l${suffix}-${'n'.repeat(63 - suffix.length - 2)}`;
    expect(ns.length).toBe(63);
    await kube.create(NS, { metadata: { name: ns } });
    const name = `claim.${'c'.repeat(120)}.${'d'.repeat(253 - 127)}`;
    expect(name.length).toBe(253);
    const sc = await makeClass('ebs-long');
    await kube.create(PVC, claim(ns, name, sc, '1Gi'));
    const pvc = await boundClaim(ns, name);
    const pvName = pvc.spec?.volumeName ?? '';
    const av = await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvName);
    expect(av?.spec.claimRef).toMatchObject({ namespace: ns, name, uid: pvc.metadata?.uid });
    expect(av?.metadata.labels?.[CLAIM_NAMESPACE_LABEL]).toBe(ns);
    expect(av?.metadata.labels?.[CLAIM_NAME_LABEL]).toMatch(new RegExp(`^${name.slice(0, 46).replace(/\./g, '\\.')}-[0-9a-f]{16}$`));
    const [vol, ...more] = await volumesTagged(PVC_NAMESPACE_TAG, ns);
    expect(more).toEqual([]);
    expect(tagMap(vol)).toMatchObject({ [PVC_NAME_TAG]: name, [PVC_NAMESPACE_TAG]: ns });
    expect(vol?.VolumeId).toBe(av?.status?.volumeId);
    // Events on a claim of that name can be written too (their names are longer than 253).
    await waitFor('ProvisioningSucceeded on the claim', async () => (await eventsFor(ns, name)).find((e) => e.reason === 'ProvisioningSucceeded'));

    // A class tag template that outgrows AWS's 256 characters for such a claim is refused up front, naming it.
    const tagged = `${suffix}-tagged-sc`;
    await kube.create(SC, storageClass(tagged, { type: 'gp3', tagSpecification_1: 'claim={{ .PVCNamespace }}/{{ .PVCName }}' }));
    classes.push(tagged);
    const name2 = `other.${'e'.repeat(253 - 6)}`;
    await kube.create(PVC, claim(ns, name2, tagged, '1Gi'));
    const ev = await waitFor('ProvisioningFailed on the second claim', async () => (await eventsFor(ns, name2)).find((e) => e.reason === 'ProvisioningFailed'));
    expect(ev.message).toContain('tagSpecification_1: tag claim would be 317 characters for this claim');
    expect((await kube.list<AwsVolume>(AWS_VOLUME_TYPE)).items.filter((a) => a.spec.claimRef?.name === name2)).toEqual([]);
    expect((await volumesTagged(PVC_NAMESPACE_TAG, ns)).length).toBe(1);

    await kube.delete(PVC, { name, namespace: ns });
    await kube.delete(PVC, { name: name2, namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(vol?.VolumeId ?? '')));
    await kube.delete(NS, { name: ns });
  });

  it('an AwsVolume the API server refuses (an admission policy) is a ProvisioningFailed Warning on the claim; lifting it provisions the claim', async () => {
    const ns = await createNamespace('denied');
    const policy = `deny-awsvolumes-${suffix}`;
    const message = `AwsVolumes for claims in ${ns} are not allowed`;
    await kube.create(VAP, {
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: ['storage.kube-iaas.dev'], apiVersions: ['*'], operations: ['CREATE'], resources: ['awsvolumes'] }] },
        validations: [{ expression: `!has(object.spec.claimRef) || object.spec.claimRef.namespace != '${ns}'`, message }],
      },
    } as KubeObject);
    await kube.create(VAPB, { metadata: { name: policy }, spec: { policyName: policy, validationActions: ['Deny'] } } as KubeObject);
    // The API server loads policies asynchronously: wait until it refuses a probe for a claim that does not exist.
    for (let i = 0; ; i++) {
      const probe = `probe-${suffix}-${i}`;
      const refused = await kube.create(AWS_VOLUME_TYPE, handMade(probe, { availabilityZone: ZONE, claimRef: { namespace: ns, name: 'no-such-claim' } })).then(
        async () => (await kube.delete(AWS_VOLUME_TYPE, { name: probe }), false),
        (err: unknown) => String(err).includes(message),
      );
      if (refused) break;
      if (i > 30) throw new Error('the admission policy never took effect');
      await sleep(500);
    }

    const sc = await makeClass('ebs-denied');
    try {
      await kube.create(PVC, claim(ns, 'data', sc, '1Gi'));
      const ev = await waitFor('ProvisioningFailed on the claim', async () => (await eventsFor(ns, 'data')).find((e) => e.reason === 'ProvisioningFailed'));
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain('cannot create AwsVolume pvc-');
      expect(ev.message).toContain(message);
      expect((await kube.list<AwsVolume>(AWS_VOLUME_TYPE)).items.filter((a) => a.spec.claimRef?.namespace === ns)).toEqual([]);
      expect((await volumesTagged(PVC_NAMESPACE_TAG, ns)).length).toBe(0);
    } finally {
      await kube.delete(VAPB, { name: policy });
      await kube.delete(VAP, { name: policy });
    }
    // Retried with backoff: once the policy is gone the claim is provisioned.
    const pvc = await boundClaim(ns, 'data');
    const av = await waitFor('AwsVolume with a volume', async () => {
      const a = await kube.get<AwsVolume>(AWS_VOLUME_TYPE, pvc.spec?.volumeName ?? '');
      return a?.status?.volumeId ? a : undefined;
    });
    await kube.delete(PVC, { name: 'data', namespace: ns });
    await waitFor('volume deleted', async () => !(await describeVolume(av.status?.volumeId ?? '')));
  });
});
