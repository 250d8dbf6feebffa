import { describe, expect, it } from 'vitest';
import { isStartupTaint, nodeShape } from '../../src/plan/node.ts';
import { nodeGroupNameFor } from '../../src/translate/discovery.ts';
import { instanceIdFromProviderId } from '../../src/aws/groups.ts';

describe('existing nodes as the planner sees them', () => {
  it('ignores the taints a joining node sheds by itself, keeps the others', () => {
    const shape = nodeShape({
      metadata: { name: 'n1', labels: { a: 'b' } },
      spec: {
        taints: [
          { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
          { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
          { key: 'startup-taint.cluster-autoscaler.kubernetes.io/cni', effect: 'NoSchedule' },
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        ],
      },
      status: { allocatable: { cpu: '1900m', memory: '3584Mi', pods: '29' } },
    });
    expect(shape.taints).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    expect(shape.allocatable).toEqual({ cpu: 1900, memory: 3584 * 2 ** 20, pods: 29 });
    expect(isStartupTaint('node.kubernetes.io/unreachable')).toBe(false);
  });

  it('names NodeGroups after ASGs and reads instance IDs from provider IDs', () => {
    expect(nodeGroupNameFor('int32bit-kubernetes-nodes')).toBe('int32bit-kubernetes-nodes');
    expect(nodeGroupNameFor('EKS_Nodes Blue')).toBe('eks-nodes-blue');
    expect(instanceIdFromProviderId('aws:///cn-northwest-1a/i-0123abcd')).toBe('i-0123abcd');
    expect(instanceIdFromProviderId('kind://x')).toBeUndefined();
  });
});
