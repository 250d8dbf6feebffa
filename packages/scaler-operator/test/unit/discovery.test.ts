import { describe, expect, it } from 'vitest';
import type { NodeGroup } from '@kube-iaas/crds';
import { planDiscovery } from '../../src/translate/discovery.ts';

function ng(name: string, asgName: string, discovered: boolean): NodeGroup {
  return {
    apiVersion: 'autoscaling.kube-iaas.dev/v1alpha1',
    kind: 'NodeGroup',
    metadata: { name, ...(discovered ? { annotations: { 'autoscaling.kube-iaas.dev/discovered': 'true' } } : {}) },
    spec: { asgName },
  };
}

describe('planDiscovery (ASG → NodeGroup)', () => {
  it('creates a labelled, annotated NodeGroup named after each new ASG', () => {
    const plan = planDiscovery(['My_Nodes'], []);
    expect(plan.create).toEqual([
      {
        apiVersion: 'autoscaling.kube-iaas.dev/v1alpha1',
        kind: 'NodeGroup',
        metadata: { name: 'my-nodes', labels: { 'app.kubernetes.io/managed-by': 'kube-iaas-scaler-operator' }, annotations: { 'autoscaling.kube-iaas.dev/discovered': 'true' } },
        spec: { asgName: 'My_Nodes' },
      },
    ]);
    expect(plan.delete).toEqual([]);
  });

  it('creates none for an ASG a NodeGroup already names, nor over an existing name', () => {
    const plan = planDiscovery(['a', 'b'], [ng('by-hand', 'a', false), ng('b', 'elsewhere', false)]);
    expect(plan.create).toEqual([]);
  });

  it('deletes discovered NodeGroups whose ASG is no longer discoverable, never hand-made ones', () => {
    const plan = planDiscovery(['a'], [ng('a', 'a', true), ng('gone', 'gone', true), ng('mine', 'gone-too', false)]);
    expect(plan.delete).toEqual(['gone']);
  });
});
