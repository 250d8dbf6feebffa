import { describe, expect, it } from 'vitest';
import { maxPods } from '@kube-iaas/core/instance-types';
import { nodeTemplateTags } from '@kube-iaas/core/tags';
import { TemplateError } from '../../src/template/build.ts';
import { parseTemplateTags, TemplateTagError } from '../../src/template/tags.ts';
import { FACTS, GiB, MiB, RESERVED, template } from './fixtures.ts';

const LABEL = 'k8s.io/cluster-autoscaler/node-template/label/';
const TAINT = 'k8s.io/cluster-autoscaler/node-template/taint/';
const RES = 'k8s.io/cluster-autoscaler/node-template/resources/';

describe('node template', () => {
  it('builds a c5.large node from the launch template: capacity from DescribeInstanceTypes, max-pods from the ENI formula', () => {
    const t = template();
    expect(t.instanceType).toBe('c5.large');
    expect(t.capacity).toEqual({ cpu: 2000, memory: 4096 * MiB, pods: 29, 'ephemeral-storage': 20 * GiB });
    expect(t.capacity.pods).toBe(maxPods({ maxEnis: 3, ipv4PerEni: 10 }));
    expect(t.allocatable).toEqual({ cpu: 1900, memory: 3584 * MiB, pods: 29, 'ephemeral-storage': 18 * GiB });
    expect(t.labels['node.kubernetes.io/instance-type']).toBe('c5.large');
    expect(t.labels['kubernetes.io/arch']).toBe('amd64');
    expect(t.labels['topology.kubernetes.io/region']).toBe('cn-northwest-1');
    // two zones: the zone label is not fixed, the zones are kept for the fit check
    expect(t.labels['topology.kubernetes.io/zone']).toBeUndefined();
    expect(t.zones).toEqual(['cn-northwest-1a', 'cn-northwest-1b']);
  });

  it('sets the zone label for a single-zone group and uses the root volume size', () => {
    const t = template({ zones: ['cn-northwest-1b'], launch: { source: 'launch-template', instanceTypes: ['c5.xlarge'], rootVolumeGiB: 50 } });
    expect(t.labels['topology.kubernetes.io/zone']).toBe('cn-northwest-1b');
    expect(t.capacity['ephemeral-storage']).toBe(50 * GiB);
    expect(t.capacity.pods).toBe(58);
  });

  it('considers every type of a mixed-instances policy and plans with the smallest', () => {
    const t = template({ launch: { source: 'mixed-instances', instanceTypes: ['c5.xlarge', 'c5.large', 'c5.2xlarge'] } });
    expect(t.instanceTypes).toEqual(['c5.xlarge', 'c5.large', 'c5.2xlarge']);
    expect(t.instanceType).toBe('c5.large');
    expect(t.source).toBe('mixed-instances');
  });

  it('reads labels, taints and resources from node-template tags (built with core’s nodeTemplateTags)', () => {
    const tags = nodeTemplateTags({
      labels: { workload: 'gpu' },
      taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
      resources: { 'nvidia.com/gpu': '1', 'ephemeral-storage': '100Gi' },
    });
    const t = template({ types: ['p3.2xlarge'], asgTags: tags });
    expect(t.labels.workload).toBe('gpu');
    expect(t.taints).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    expect(t.capacity['nvidia.com/gpu']).toBe(1);
    expect(t.allocatable['ephemeral-storage']).toBe(98 * GiB);
  });

  it.each([
    [`${TAINT}dedicated`, 'gpu', 'must be <value>:<effect>'],
    [`${TAINT}dedicated`, 'gpu:NoPlease', 'must be <value>:<effect>'],
    [`${RES}nvidia.com/gpu`, 'lots', 'is not a quantity'],
    [`${LABEL}bad key!`, 'x', 'is not a valid label key'],
    [`${LABEL}team`, 'not a value', 'is not a valid label value'],
  ])('a malformed tag %s=%s is an error naming the tag', (key, value, msg) => {
    expect(() => parseTemplateTags({ [key]: value })).toThrow(TemplateTagError);
    let err: unknown;
    try {
      template({ asgTags: { [key]: value } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).tag).toBe(key);
    expect((err as Error).message).toContain(key);
    expect((err as Error).message).toContain(msg);
  });

  it('accepts an empty taint value', () => {
    expect(parseTemplateTags({ [`${TAINT}spot`]: ':PreferNoSchedule' }).taints).toEqual([{ key: 'spot', value: '', effect: 'PreferNoSchedule' }]);
  });

  it('counts DaemonSets that would run on the node as overhead, and only those', () => {
    const ds = (key: string, cpu: string, extra: object = {}) => ({ key, podSpec: { containers: [{ name: 'c', resources: { requests: { cpu, memory: '100Mi' } } }], ...extra } });
    const t = template({
      asgTags: { [`${TAINT}dedicated`]: 'batch:NoSchedule' },
      daemonSets: [
        ds('kube-system/tolerates-all', '100m', { tolerations: [{ operator: 'Exists' }] }),
        ds('kube-system/no-toleration', '200m'),
        ds('kube-system/arm-only', '300m', { nodeSelector: { 'kubernetes.io/arch': 'arm64' }, tolerations: [{ operator: 'Exists' }] }),
      ],
    });
    expect(t.daemonSets).toEqual(['kube-system/tolerates-all']);
    expect(t.daemonSetOverhead).toMatchObject({ cpu: 100, memory: 100 * MiB, pods: 1 });
    expect(t.allocatable.cpu).toBe(1800);
    expect(t.allocatable.pods).toBe(28);
    expect(t.nodeAllocatable.cpu).toBe(1900);
  });

  it('lets spec.nodeTemplate override types, labels, taints, resources, reservations and max pods', () => {
    const t = template({
      spec: {
        instanceTypes: ['c5.xlarge'],
        zones: ['cn-northwest-1a'],
        labels: { pool: 'x' },
        taints: [{ key: 'only', effect: 'NoExecute' }],
        resources: { memory: '6Gi' },
        reserved: { cpu: '500m' },
        maxPods: 40,
      },
    });
    expect(t.source).toBe('spec');
    expect(t.instanceType).toBe('c5.xlarge');
    expect(t.labels.pool).toBe('x');
    expect(t.labels['topology.kubernetes.io/zone']).toBe('cn-northwest-1a');
    expect(t.taints).toEqual([{ key: 'only', value: '', effect: 'NoExecute' }]);
    expect(t.allocatable).toMatchObject({ cpu: 3500, memory: 6 * GiB, pods: 40 });
  });

  it('fails naming an unknown instance type, or a group with no type at all', () => {
    expect(() => template({ types: ['x9.huge'] })).toThrow(/instance type x9.huge is not known/);
    expect(() => template({ types: [] })).toThrow(/names no instance type/);
    expect(FACTS.size).toBeGreaterThan(0);
    expect(RESERVED.cpu).toBe(100);
  });
});
