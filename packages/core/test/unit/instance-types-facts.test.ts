import { describe, expect, it, vi } from 'vitest';
import type { EC2Client, InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { InstanceTypeCatalog, ebsLimitsOf, ebsVolumeSlots, instanceTypeFactsFromSdk, maxPods, podAddressCapacity } from '../../src/instance-types/index.ts';

describe('pod capacity', () => {
  it('max pods is N*(M-1)+2', () => {
    expect(maxPods({ maxEnis: 3, ipv4PerEni: 10 })).toBe(29); // c5.large
    expect(maxPods({ maxEnis: 4, ipv4PerEni: 15 })).toBe(58); // c5.xlarge
    expect(maxPods({ maxEnis: 2, ipv4PerEni: 2 })).toBe(4); // t2.nano-ish
  });

  it('pod address capacity is N*M-N (the article: 27 and 56)', () => {
    expect(podAddressCapacity({ maxEnis: 3, ipv4PerEni: 10 })).toBe(27);
    expect(podAddressCapacity({ maxEnis: 4, ipv4PerEni: 15 })).toBe(56);
  });

  it('rejects nonsense', () => {
    expect(() => maxPods({ maxEnis: 0, ipv4PerEni: 10 })).toThrow();
    expect(() => podAddressCapacity({ maxEnis: 3, ipv4PerEni: 1.5 })).toThrow();
  });
});

const c5large: InstanceTypeInfo = {
  InstanceType: 'c5.large',
  Hypervisor: 'nitro',
  BareMetal: false,
  VCpuInfo: { DefaultVCpus: 2 },
  MemoryInfo: { SizeInMiB: 4096 },
  ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
  NetworkInfo: { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 10, Ipv6AddressesPerInterface: 10 },
  EbsInfo: { MaximumEbsAttachments: 27, AttachmentLimitType: 'shared' },
};
const c5xlarge: InstanceTypeInfo = { ...c5large, InstanceType: 'c5.xlarge', VCpuInfo: { DefaultVCpus: 4 }, MemoryInfo: { SizeInMiB: 8192 }, NetworkInfo: { MaximumNetworkInterfaces: 4, Ipv4AddressesPerInterface: 15 } };

describe('instanceTypeFactsFromSdk', () => {
  it('maps DescribeInstanceTypes output', () => {
    expect(instanceTypeFactsFromSdk(c5large)).toEqual({
      instanceType: 'c5.large',
      vcpus: 2,
      memoryMiB: 4096,
      maxEnis: 3,
      ipv4PerEni: 10,
      ipv6PerEni: 10,
      hypervisor: 'nitro',
      bareMetal: false,
      architectures: ['x86_64'],
      instanceStoreVolumes: 0,
      ebs: { attachmentLimitType: 'shared', maxAttachments: 28, source: 'api' },
      maxPods: 29,
      podAddressCapacity: 27,
    });
    expect(instanceTypeFactsFromSdk(c5xlarge)).toMatchObject({ maxPods: 58, podAddressCapacity: 56 });
  });

  it('fails naming the type when network limits are missing', () => {
    expect(() => instanceTypeFactsFromSdk({ InstanceType: 'x1.weird' as InstanceTypeInfo['InstanceType'] })).toThrow(/x1\.weird/);
  });
});

describe('EBS attachment limits', () => {
  it('uses what the API reports, else 28 shared slots on Nitro, else 39 on Xen', () => {
    expect(ebsLimitsOf({ EbsInfo: { MaximumEbsAttachments: 32, AttachmentLimitType: 'dedicated' }, Hypervisor: 'nitro' })).toEqual({ attachmentLimitType: 'dedicated', maxAttachments: 32, source: 'api' });
    expect(ebsLimitsOf({ Hypervisor: 'nitro' })).toEqual({ attachmentLimitType: 'shared', maxAttachments: 28, source: 'assumed' });
    expect(ebsLimitsOf({ Hypervisor: 'xen' })).toEqual({ attachmentLimitType: 'dedicated', maxAttachments: 39, source: 'assumed' });
  });

  it('counts ENIs and instance store against shared slots, and the root volume always', () => {
    const facts = instanceTypeFactsFromSdk(c5large);
    expect(ebsVolumeSlots(facts, { attachedEnis: 1 })).toBe(26);
    expect(ebsVolumeSlots(facts, { attachedEnis: 3 })).toBe(24);
    expect(ebsVolumeSlots({ ...facts, instanceStoreVolumes: 2 }, { attachedEnis: 3 })).toBe(22);
    expect(ebsVolumeSlots({ ebs: { attachmentLimitType: 'dedicated', maxAttachments: 39, source: 'assumed' }, instanceStoreVolumes: 0 }, { attachedEnis: 3 })).toBe(38);
  });

  it('counts NVMe instance-store disks', () => {
    const m5d: InstanceTypeInfo = { ...c5large, InstanceType: 'm5d.large', InstanceStorageInfo: { NvmeSupport: 'required' as const, Disks: [{ Count: 1, SizeInGB: 75 }] } };
    expect(instanceTypeFactsFromSdk(m5d).instanceStoreVolumes).toBe(1);
  });
});

describe('InstanceTypeCatalog', () => {
  function fakeEc2(infos: InstanceTypeInfo[]) {
    const send = vi.fn(async (cmd: { input: { InstanceTypes?: string[] } }) => {
      await new Promise((r) => setTimeout(r, 5));
      return { InstanceTypes: infos.filter((i) => cmd.input.InstanceTypes?.includes(i.InstanceType ?? '')) };
    });
    return { client: { send } as unknown as EC2Client, send };
  }

  it('caches, batches and shares in-flight lookups', async () => {
    const { client, send } = fakeEc2([c5large, c5xlarge]);
    const catalog = new InstanceTypeCatalog(client);
    const [a, b, many] = await Promise.all([catalog.get('c5.large'), catalog.get('c5.large'), catalog.getMany(['c5.large', 'c5.xlarge'])]);
    expect(a.maxPods).toBe(29);
    expect(b).toBe(a);
    expect(many.get('c5.xlarge')?.podAddressCapacity).toBe(56);
    expect(send).toHaveBeenCalledTimes(2); // c5.large once, then c5.xlarge alone
    await catalog.get('c5.xlarge');
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('expires entries after the TTL', async () => {
    let now = 0;
    const { client, send } = fakeEc2([c5large]);
    const catalog = new InstanceTypeCatalog(client, { ttlMs: 1000, now: () => now });
    await catalog.get('c5.large');
    now = 999;
    await catalog.get('c5.large');
    expect(send).toHaveBeenCalledTimes(1);
    now = 1001;
    await catalog.get('c5.large');
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('unknown types are a terminal error naming the type', async () => {
    const { client } = fakeEc2([c5large]);
    await expect(new InstanceTypeCatalog(client).get('c5.huge')).rejects.toMatchObject({ kind: 'terminal', code: 'InvalidInstanceType', message: expect.stringContaining('c5.huge') });
  });

  it('can be primed without AWS', async () => {
    const { client, send } = fakeEc2([]);
    const catalog = new InstanceTypeCatalog(client);
    catalog.prime([instanceTypeFactsFromSdk(c5large)]);
    expect((await catalog.get('c5.large')).maxEnis).toBe(3);
    expect(send).not.toHaveBeenCalled();
  });
});
