import { describe, expect, it } from 'vitest';
import {
  allowedZones,
  buildPersistentVolume,
  expandedSizeGiB,
  parseParameters,
  parseProviderId,
  parseQuantity,
  resolveVolumeSettings,
  roundUpGiB,
  spreadZone,
  translateClaim,
  type PersistentVolumeClaim,
  type StorageClass,
} from '../../src/translate/index.ts';
import { DRIVER_NAME, SELECTED_NODE_ANNOTATION } from '../../src/constants.ts';

const ZONES = ['cn-northwest-1a', 'cn-northwest-1b'];

function sc(over: Partial<StorageClass> = {}): StorageClass {
  return { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'ebs' }, provisioner: DRIVER_NAME, parameters: { type: 'gp3' }, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', ...over };
}
function pvc(size = '30Gi', over: { annotations?: Record<string, string>; accessModes?: string[] } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default', uid: '1111-2222', ...(over.annotations ? { annotations: over.annotations } : {}) },
    spec: { accessModes: over.accessModes ?? ['ReadWriteOnce'], storageClassName: 'ebs', resources: { requests: { storage: size } } },
  };
}
const errorsOf = (params: Record<string, string>, size = 100) => {
  const p = parseParameters(params);
  if (!p.ok) return p.errors.map((e) => e.message);
  const r = resolveVolumeSettings(p.value, size);
  return r.ok ? [] : r.errors.map((e) => e.message);
};

describe('quantities', () => {
  it('parses binary, decimal and exponent forms and rounds up to whole GiB', () => {
    expect(parseQuantity('30Gi')).toBe(30 * 2 ** 30);
    expect(roundUpGiB(parseQuantity('30Gi')!)).toBe(30);
    expect(roundUpGiB(parseQuantity('1G')!)).toBe(1);
    expect(roundUpGiB(parseQuantity('1.5Gi')!)).toBe(2);
    expect(roundUpGiB(parseQuantity('500Mi')!)).toBe(1);
    expect(roundUpGiB(parseQuantity('1Ti')!)).toBe(1024);
    expect(roundUpGiB(parseQuantity('32212254721')!)).toBe(31); // 30Gi + 1 byte
    expect(parseQuantity('1e9')).toBe(1e9);
    expect(parseQuantity('abc')).toBeUndefined();
    expect(parseQuantity('10Xi')).toBeUndefined();
  });
});

describe('StorageClass parameters', () => {
  it('defaults to gp3, ext4, unencrypted', () => {
    const p = parseParameters(undefined);
    expect(p).toEqual({ ok: true, value: { volumeType: 'gp3', allowAutoIopsPerGbIncrease: false, encrypted: false, fsType: 'ext4', tags: {} } });
  });
  it('reads every EBS CSI parameter, keys case-insensitively', () => {
    const p = parseParameters({ Type: 'io2', IOPS: '4000', encrypted: 'true', kmsKeyId: 'alias/k', 'csi.storage.k8s.io/fstype': 'xfs', tagSpecification_1: 'team=storage', tagSpecification_2: 'pvc={{ .PVCNamespace }}/{{ .PVCName }}', blockSize: '4096' });
    expect(p.ok && p.value).toEqual({ volumeType: 'io2', iops: 4000, allowAutoIopsPerGbIncrease: false, encrypted: true, kmsKeyId: 'alias/k', fsType: 'xfs', tags: { team: 'storage', pvc: '{{ .PVCNamespace }}/{{ .PVCName }}' } });
  });
  it('rejects unknown parameters, naming them', () => {
    expect(errorsOf({ type: 'gp3', speed: 'fast' })[0]).toMatch(/^speed: unknown parameter/);
  });
  it('rejects an unknown type, listing the types', () => {
    expect(errorsOf({ type: 'gp9' })[0]).toMatch(/type: unknown volume type "gp9"; must be one of gp2, gp3, io1, io2, st1, sc1, standard/);
  });
  it('rejects iops together with iopsPerGB', () => {
    expect(errorsOf({ type: 'io1', iops: '1000', iopsPerGB: '10' })).toContain('iops and iopsPerGB are mutually exclusive: set one of them');
  });
  it('checks gp3 iops range and per-GiB limit', () => {
    expect(errorsOf({ type: 'gp3', iops: '2000' })[0]).toBe('iops: 2000 is outside the 3000-16000 range of volume type gp3');
    expect(errorsOf({ type: 'gp3', iops: '17000' }, 1000)[0]).toBe('iops: 17000 is outside the 3000-16000 range of volume type gp3');
    expect(errorsOf({ type: 'gp3', iops: '6000' }, 10)[0]).toBe('iops: 6000 is more than 500 IOPS per GiB allows for a 10 GiB gp3 volume (at most 5000)');
    expect(errorsOf({ type: 'gp3', iops: '3000' }, 1)).toEqual([]); // baseline at any size
  });
  it('checks io1 and io2 per-GiB limits', () => {
    expect(errorsOf({ type: 'io1', iops: '1000' }, 10)[0]).toBe('iops: 1000 is more than 50 IOPS per GiB allows for a 10 GiB io1 volume (at most 500)');
    expect(errorsOf({ type: 'io2', iops: '20000' }, 10)[0]).toBe('iops: 20000 is more than 1000 IOPS per GiB allows for a 10 GiB io2 volume (at most 10000)');
    expect(errorsOf({ type: 'io2', iops: '4000' }, 10)).toEqual([]);
  });
  it('requires iops for io1/io2 and refuses it for other types', () => {
    expect(errorsOf({ type: 'io2' })[0]).toMatch(/^iops: volume type io2 needs iops or iopsPerGB \(100-256000, at most 1000 per GiB\)/);
    expect(errorsOf({ type: 'gp2', iops: '100' })[0]).toBe('iops: provisioned IOPS are only allowed for volume types gp3, io1, io2, not gp2');
  });
  it('multiplies iopsPerGB out, capped at the maximum, raised only when allowed', () => {
    const p = parseParameters({ type: 'io1', iopsPerGB: '50' });
    expect(p.ok && resolveVolumeSettings(p.value, 100)).toMatchObject({ ok: true, value: { iops: 5000 } });
    expect(p.ok && resolveVolumeSettings(p.value, 16000)).toMatchObject({ ok: true, value: { iops: 64000 } });
    expect(errorsOf({ type: 'io1', iopsPerGB: '10' }, 5)[0]).toMatch(/iopsPerGB: 10 × 5 GiB = 50 IOPS is below the minimum of 100/);
    const auto = parseParameters({ type: 'io1', iopsPerGB: '10', allowAutoIOPSPerGBIncrease: 'true' });
    expect(auto.ok && resolveVolumeSettings(auto.value, 5)).toMatchObject({ ok: true, value: { iops: 100 } });
  });
  it('checks size ranges per type', () => {
    expect(errorsOf({ type: 'st1' }, 100)[0]).toBe('resources.requests.storage: 100 GiB is outside the 125-16384 GiB range of volume type st1');
    expect(errorsOf({ type: 'sc1' }, 125)).toEqual([]);
    expect(errorsOf({ type: 'io1', iops: '100' }, 3)[0]).toBe('resources.requests.storage: 3 GiB is outside the 4-16384 GiB range of volume type io1');
    expect(errorsOf({ type: 'standard' }, 2000)[0]).toMatch(/outside the 1-1024 GiB range of volume type standard/);
  });
  it('checks gp3 throughput range and ratio to IOPS', () => {
    expect(errorsOf({ type: 'gp3', throughput: '100' })[0]).toBe("throughput: 100 MiB/s is outside gp3's 125-1000 MiB/s");
    expect(errorsOf({ type: 'gp3', throughput: '1000' })[0]).toBe('throughput: 1000 MiB/s is more than 0.25 MiB/s per IOPS allows with 3000 IOPS (at most 750)');
    expect(errorsOf({ type: 'gp3', throughput: '1000', iops: '4000' }, 100)).toEqual([]);
    expect(errorsOf({ type: 'gp2', throughput: '200' })[0]).toBe('throughput: only gp3 volumes take a throughput, not gp2');
  });
  it('needs encrypted for kmsKeyId, and parses booleans strictly', () => {
    expect(errorsOf({ kmsKeyId: 'alias/x' })[0]).toMatch(/^kmsKeyId: needs encrypted/);
    expect(errorsOf({ encrypted: 'yes' })[0]).toBe('encrypted: "yes" is not true or false');
  });
  it('checks fstype and tag specifications', () => {
    expect(errorsOf({ 'csi.storage.k8s.io/fstype': 'btrfs' })[0]).toMatch(/unsupported filesystem "btrfs"; must be one of ext4, xfs/);
    expect(errorsOf({ tagSpecification_1: 'novalue' })[0]).toBe('tagSpecification_1: "novalue" is not key=value');
    expect(errorsOf({ tagSpecification_1: 'kubernetes.io/cluster/x=owned' })[0]).toMatch(/is reserved/);
    expect(errorsOf({ tagSpecification_1: 'a=1', tagSpecification_2: 'a=2' })[0]).toMatch(/tag key a is also set by tagSpecification_1/);
  });
});

describe('claim → AwsVolume', () => {
  it('translates the article: gp3, 30Gi → 30 GiB with claimRef, labels, reclaim policy and a cluster zone', () => {
    const r = translateClaim(pvc(), sc(), { clusterZones: ZONES });
    expect(r.kind).toBe('volume');
    if (r.kind !== 'volume') return;
    expect(r.volume.metadata.name).toBe('pvc-1111-2222');
    expect(r.volume.metadata.ownerReferences).toBeUndefined();
    expect(r.volume.spec).toEqual({
      availabilityZone: spreadZone('pvc-1111-2222', ZONES),
      sizeGiB: 30,
      volumeType: 'gp3',
      encrypted: false,
      fsType: 'ext4',
      reclaimPolicy: 'Delete',
      claimRef: { namespace: 'default', name: 'data', uid: '1111-2222' },
    });
    expect(r.volume.metadata.labels).toEqual({ 'storage.kube-iaas.dev/claim-namespace': 'default', 'storage.kube-iaas.dev/claim-name': 'data' });
  });
  it('skips claims of other classes, bound claims, and WaitForFirstConsumer claims without a selected node', () => {
    expect(translateClaim(pvc(), sc({ provisioner: 'ebs.csi.aws.com' }), { clusterZones: ZONES }).kind).toBe('skip');
    expect(translateClaim(pvc(), undefined, { clusterZones: ZONES }).kind).toBe('skip');
    const bound = pvc();
    bound.spec!.volumeName = 'pv-1';
    expect(translateClaim(bound, sc(), { clusterZones: ZONES }).kind).toBe('skip');
    expect(translateClaim(pvc(), sc({ volumeBindingMode: 'WaitForFirstConsumer' }), { clusterZones: ZONES }).kind).toBe('skip');
  });
  it('takes the zone of the selected node with WaitForFirstConsumer', () => {
    const r = translateClaim(pvc('10Gi', { annotations: { [SELECTED_NODE_ANNOTATION]: 'node-b' } }), sc({ volumeBindingMode: 'WaitForFirstConsumer' }), { clusterZones: ZONES, selectedNodeZone: 'cn-northwest-1b' });
    expect(r.kind === 'volume' && r.volume.spec.availabilityZone).toBe('cn-northwest-1b');
    const missing = translateClaim(pvc('10Gi', { annotations: { [SELECTED_NODE_ANNOTATION]: 'node-x' } }), sc({ volumeBindingMode: 'WaitForFirstConsumer' }), { clusterZones: ZONES });
    expect(missing.kind === 'invalid' && missing.errors[0]?.message).toMatch(/node node-x has no zone label/);
  });
  it('honours allowedTopologies and refuses zones without a cluster subnet', () => {
    const only1b = sc({ allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['cn-northwest-1b'] }] }] });
    expect(allowedZones(only1b.allowedTopologies)).toEqual(['cn-northwest-1b']);
    const r = translateClaim(pvc(), only1b, { clusterZones: ZONES });
    expect(r.kind === 'volume' && r.volume.spec.availabilityZone).toBe('cn-northwest-1b');
    const elsewhere = sc({ allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['cn-north-1a'] }] }] });
    const bad = translateClaim(pvc(), elsewhere, { clusterZones: ZONES });
    expect(bad.kind === 'invalid' && bad.errors[0]?.message).toBe('allowedTopologies: none of cn-north-1a has a subnet tagged for this cluster (cluster zones: cn-northwest-1a, cn-northwest-1b)');
  });
  it('spreads Immediate claims over zones deterministically', () => {
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 20; i++) seen.add(spreadZone(`pvc-${i}`, ZONES));
    expect(seen).toEqual(new Set(ZONES));
    expect(spreadZone('pvc-x', ZONES)).toBe(spreadZone('pvc-x', [...ZONES].reverse()));
  });
  it('reports every problem at once: parameters, size, access mode', () => {
    const r = translateClaim(pvc('100Gi', { accessModes: ['ReadWriteMany'] }), sc({ parameters: { type: 'st1', bogus: '1' } }), { clusterZones: ZONES });
    expect(r.kind).toBe('invalid');
    const params = r.kind === 'invalid' ? r.errors.map((e) => e.parameter) : [];
    expect(params).toEqual(['bogus', 'accessModes']);
    const r2 = translateClaim(pvc('100Gi'), sc({ parameters: { type: 'st1' } }), { clusterZones: ZONES });
    expect(r2.kind === 'invalid' && r2.errors.map((e) => e.message)).toEqual(['resources.requests.storage: 100 GiB is outside the 125-16384 GiB range of volume type st1']);
  });
  it('renders tag templates and carries io2 iops and Retain', () => {
    const r = translateClaim(pvc('10Gi'), sc({ reclaimPolicy: 'Retain', parameters: { type: 'io2', iops: '5000', tagSpecification_1: 'claim={{ .PVCNamespace }}/{{ .PVCName }}' } }), { clusterZones: ZONES });
    expect(r.kind === 'volume' && r.volume.spec).toMatchObject({ volumeType: 'io2', iops: 5000, reclaimPolicy: 'Retain', tags: { claim: 'default/data' } });
  });
  it('claims with the longest legal names: labels hashed to 63 characters; a tag template that outgrows 256 characters is refused naming its parameter', () => {
    const long = pvc('1Gi');
    long.metadata = { ...long.metadata, name: `c${'x'.repeat(252)}`, namespace: `n${'y'.repeat(62)}` };
    const ok = translateClaim(long, sc({ parameters: { type: 'gp3', tagSpecification_1: 'pvc={{ .PVCName }}' } }), { clusterZones: ZONES });
    expect(ok.kind === 'volume' && ok.volume.metadata.labels).toEqual({ 'storage.kube-iaas.dev/claim-namespace': long.metadata.namespace, 'storage.kube-iaas.dev/claim-name': expect.stringMatching(/^cx{45}-[0-9a-f]{16}$/) });
    expect(ok.kind === 'volume' && ok.volume.spec.claimRef?.name).toBe(long.metadata.name);
    const bad = translateClaim(long, sc({ parameters: { type: 'gp3', TagSpecification_2: 'claim={{ .PVCNamespace }}/{{ .PVCName }}' } }), { clusterZones: ZONES });
    expect(bad.kind === 'invalid' && bad.errors).toEqual([
      { parameter: 'TagSpecification_2', message: 'TagSpecification_2: tag claim would be 317 characters for this claim once its names are filled in; AWS allows at most 256 per tag value' },
    ]);
  });
  it('computes the expanded size of a bound claim, never shrinking', () => {
    expect(expandedSizeGiB(pvc('40Gi'), 30)).toBe(40);
    expect(expandedSizeGiB(pvc('30Gi'), 30)).toBeUndefined();
    expect(expandedSizeGiB(pvc('20Gi'), 30)).toBeUndefined();
  });
});

describe('PersistentVolume', () => {
  it('builds the CSI PV with zone affinity, claimRef and reclaim policy', () => {
    const r = translateClaim(pvc(), sc({ mountOptions: ['noatime'] }), { clusterZones: ZONES });
    if (r.kind !== 'volume') throw new Error('expected a volume');
    const pv = buildPersistentVolume(r.volume, { volumeId: 'vol-0abc', availabilityZone: 'cn-northwest-1a', sizeGiB: 30 }, pvc(), sc({ mountOptions: ['noatime'] }));
    expect(pv).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pvc-1111-2222', annotations: { 'pv.kubernetes.io/provisioned-by': 'ebs.kube-iaas.dev' } },
      spec: {
        capacity: { storage: '30Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Delete',
        volumeMode: 'Filesystem',
        storageClassName: 'ebs',
        mountOptions: ['noatime'],
        csi: { driver: 'ebs.kube-iaas.dev', volumeHandle: 'vol-0abc', fsType: 'ext4', volumeAttributes: { 'storage.kube-iaas.dev/volume-id': 'vol-0abc' } },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['cn-northwest-1a'] }] }] } },
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: '1111-2222' },
      },
    });
  });
  it('parses provider IDs', () => {
    expect(parseProviderId('aws:///cn-northwest-1a/i-0abc1234567890def')).toEqual({ instanceId: 'i-0abc1234567890def', zone: 'cn-northwest-1a' });
    expect(parseProviderId('aws:///i-0abc1234567890def')).toEqual({ instanceId: 'i-0abc1234567890def' });
    expect(parseProviderId('gce://p/z/n')).toBeUndefined();
    expect(parseProviderId(undefined)).toBeUndefined();
  });
});
