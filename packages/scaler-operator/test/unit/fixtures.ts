import { instanceTypeFactsFromSdk, type InstanceTypeFacts } from '@kube-iaas/core/instance-types';
import type { V1Pod as Pod } from '@kubernetes/client-node';
import { buildNodeTemplate, type NodeTemplate, type TemplateInput } from '../../src/template/build.ts';

/** DescribeInstanceTypes answers for the article's types (the real EC2 figures). */
export function facts(type: 'c5.large' | 'c5.xlarge' | 'c5.2xlarge' | 'p3.2xlarge'): InstanceTypeFacts {
  const t = {
    'c5.large': { v: 2, m: 4096, e: 3, ip: 10 },
    'c5.xlarge': { v: 4, m: 8192, e: 4, ip: 15 },
    'c5.2xlarge': { v: 8, m: 16384, e: 4, ip: 15 },
    'p3.2xlarge': { v: 8, m: 62464, e: 4, ip: 15 },
  }[type];
  return instanceTypeFactsFromSdk({
    InstanceType: type,
    VCpuInfo: { DefaultVCpus: t.v },
    MemoryInfo: { SizeInMiB: t.m },
    NetworkInfo: { MaximumNetworkInterfaces: t.e, Ipv4AddressesPerInterface: t.ip },
    Hypervisor: 'nitro',
    ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
  });
}

export const FACTS = new Map(['c5.large', 'c5.xlarge', 'c5.2xlarge', 'p3.2xlarge'].map((t) => [t, facts(t as 'c5.large')]));

/** The testbed's kubelet reservations: 100m CPU, 512Mi memory, 2Gi ephemeral storage. */
export const RESERVED = { cpu: 100, memory: 512 * 2 ** 20, 'ephemeral-storage': 2 * 2 ** 30 };
export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

export function template(over: Partial<TemplateInput> & { types?: string[] } = {}): NodeTemplate {
  return buildNodeTemplate({
    group: over.group ?? 'nodes',
    region: 'cn-northwest-1',
    zones: over.zones ?? ['cn-northwest-1a', 'cn-northwest-1b'],
    launch: over.launch ?? { source: 'launch-template', instanceTypes: over.types ?? ['c5.large'] },
    facts: FACTS,
    asgTags: over.asgTags ?? {},
    spec: over.spec,
    reserved: over.reserved ?? RESERVED,
    defaultEphemeralStorage: 20 * GiB,
    daemonSets: over.daemonSets ?? [],
  });
}

export function pod(name: string, req: Record<string, string>, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', resources: { requests: req } }], ...spec },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
  };
}
