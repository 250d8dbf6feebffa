import { describe, expect, it } from 'vitest';
import type { InstanceTypeFacts } from '@kube-iaas/core/instance-types';
import type { Volume } from '@kube-iaas/core/aws';
import { DEVICE_NAMES, DeviceReservations, canonicalDevice, checkAttachCapacity, diffVolume, judgeKmsKey, pickDevice, volumeSlots } from '../../src/plan/index.ts';

const c5large: Pick<InstanceTypeFacts, 'ebs' | 'instanceStoreVolumes'> = { ebs: { attachmentLimitType: 'shared', maxAttachments: 28, source: 'api' }, instanceStoreVolumes: 0 };
const xen: Pick<InstanceTypeFacts, 'ebs' | 'instanceStoreVolumes'> = { ebs: { attachmentLimitType: 'dedicated', maxAttachments: 39, source: 'assumed' }, instanceStoreVolumes: 0 };

describe('device names', () => {
  it('offers 650 names from /dev/xvdba to /dev/xvdzz', () => {
    expect(DEVICE_NAMES.length).toBe(650);
    expect(DEVICE_NAMES[0]).toBe('/dev/xvdba');
    expect(DEVICE_NAMES.at(-1)).toBe('/dev/xvdzz');
  });
  it('treats sdX and xvdX as one slot', () => {
    expect(canonicalDevice('/dev/sdba')).toBe('/dev/xvdba');
    expect(canonicalDevice('xvdba')).toBe('/dev/xvdba');
    expect(canonicalDevice('/dev/sda1')).toBe('/dev/xvda');
  });
  it('never picks a name in use or in flight', () => {
    expect(pickDevice(['/dev/sda1'])).toBe('/dev/xvdba');
    expect(pickDevice(['/dev/sda1', '/dev/sdba'], ['/dev/xvdbb'])).toBe('/dev/xvdbc');
    expect(pickDevice(DEVICE_NAMES)).toBeUndefined();
  });
  it('reserves names for concurrent attaches to one instance and releases them', () => {
    const r = new DeviceReservations();
    const a = r.reserve('i-1', 'vol-a', ['/dev/xvda']);
    const b = r.reserve('i-1', 'vol-b', ['/dev/xvda']);
    const c = r.reserve('i-2', 'vol-c', ['/dev/xvda']);
    expect([a, b, c]).toEqual(['/dev/xvdba', '/dev/xvdbb', '/dev/xvdba']);
    expect(r.reserve('i-1', 'vol-a', [])).toBe('/dev/xvdba'); // same volume keeps its name
    r.release('i-1', 'vol-a');
    expect(r.inFlight('i-1')).toEqual(['/dev/xvdbb']);
    expect(r.reserve('i-1', 'vol-d', ['/dev/xvda'])).toBe('/dev/xvdba');
    expect(r.size).toBe(3);
  });
});

describe('attach limits', () => {
  it('leaves 26 data volumes on c5.large with one ENI (28 shared − ENI − root)', () => {
    expect(volumeSlots(c5large, 1)).toBe(26);
    expect(volumeSlots(c5large, 3)).toBe(24);
    expect(volumeSlots(xen, 4)).toBe(38);
  });
  it('refuses an attach when slots are used up, counting attaches in flight', () => {
    const devices = ['/dev/xvda', ...Array.from({ length: 25 }, (_, i) => `/dev/xvdb${String.fromCharCode(97 + i)}`)];
    const inst = { instanceId: 'i-1', instanceType: 'c5.large', devices, rootDevice: '/dev/xvda', attachedEnis: 1 };
    expect(checkAttachCapacity(inst, c5large, 0)).toEqual({ ok: true, free: 1 });
    const full = checkAttachCapacity(inst, c5large, 1);
    expect(full.ok).toBe(false);
    expect(!full.ok && full.message).toBe('instance i-1 (c5.large) has no free EBS attachment slot: 26 of 26 data volumes attached or attaching (28 slots shared with 1 network interface(s) and the root volume)');
  });
});

describe('volume diff', () => {
  const actual: Volume = { id: 'vol-1', availabilityZone: 'cn-northwest-1a', sizeGiB: 30, volumeType: 'gp3', iops: 3000, state: 'available', encrypted: false, attachments: [], tags: {} };
  it('does nothing when the volume matches', () => {
    expect(diffVolume({ sizeGiB: 30, volumeType: 'gp3', availabilityZone: 'cn-northwest-1a' }, actual)).toEqual({ immutable: [] });
  });
  it('grows in one ModifyVolume with the other changes', () => {
    expect(diffVolume({ sizeGiB: 40, volumeType: 'gp3', iops: 4000, throughput: 250 }, actual).modify).toEqual({ Size: 40, Iops: 4000, Throughput: 250 });
    expect(diffVolume({ sizeGiB: 30, volumeType: 'io2', iops: 3000 }, actual).modify).toEqual({ VolumeType: 'io2' });
  });
  it('reports a shrink and immutable differences without acting on them', () => {
    const d = diffVolume({ sizeGiB: 20, volumeType: 'gp3', availabilityZone: 'cn-northwest-1b', encrypted: true }, actual);
    expect(d.modify).toBeUndefined();
    expect(d.shrink).toEqual({ from: 30, to: 20 });
    expect(d.immutable).toEqual(['availabilityZone cn-northwest-1a (spec cn-northwest-1b)', 'encrypted false (spec true)']);
  });
});

describe('KMS key check before CreateVolume', () => {
  const arn = 'arn:aws-cn:kms:cn-northwest-1:123456789012:key/3c1aeb73-e7db-41ac-9c59-5d435b802360';
  const key = { keyId: '3c1aeb73-e7db-41ac-9c59-5d435b802360', arn, state: 'Enabled', enabled: true, keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT' };
  it('an enabled symmetric key: create with its ARN (an alias moved later does not change the key)', () => {
    expect(judgeKmsKey('alias/data', { found: true, key }, 'cn-northwest-1')).toEqual({ ok: true, arn });
  });
  it('an unknown key or alias: fails naming kmsKeyId, not retried', () => {
    expect(judgeKmsKey('alias/nope', { found: false, keyId: 'alias/nope', message: 'Alias arn:aws-cn:kms:cn-northwest-1:123456789012:alias/nope is not found.' }, 'cn-northwest-1')).toEqual({
      ok: false,
      retry: false,
      message: 'kmsKeyId: KMS key alias/nope not found in cn-northwest-1 (Alias arn:aws-cn:kms:cn-northwest-1:123456789012:alias/nope is not found.); no volume was created',
    });
  });
  it('a disabled key or one pending deletion: fails naming kmsKeyId and the state, retried (it may be enabled again)', () => {
    const disabled = judgeKmsKey(arn, { found: true, key: { ...key, state: 'Disabled', enabled: false } }, 'cn-northwest-1');
    expect(disabled).toEqual({ ok: false, retry: true, message: `kmsKeyId: ${arn}: KMS key ${arn} is Disabled, not Enabled; no volume was created` });
    const pending = judgeKmsKey('alias/old', { found: true, key: { ...key, state: 'PendingDeletion', enabled: false } }, 'cn-northwest-1');
    expect(pending).toMatchObject({ ok: false, retry: true, message: expect.stringContaining('is PendingDeletion, not Enabled') });
  });
  it('an asymmetric key cannot encrypt EBS', () => {
    expect(judgeKmsKey('alias/sign', { found: true, key: { ...key, keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' } }, 'cn-northwest-1')).toMatchObject({ ok: false, message: expect.stringContaining('not ENCRYPT_DECRYPT') });
  });
});
