import { describe, expect, it } from 'vitest';
import { nodeTemplateTags } from '@kube-iaas/core/tags';
import { asgNodeSettings, JOIN_DELAY_TAG, NEVER_JOIN_TAG } from '../../src/node-simulator/asg-settings.ts';
import { newNode, type SimInstance } from '../../src/node-simulator/node-object.ts';

const inst: SimInstance = {
  instanceId: 'i-0abc',
  instanceType: 'c5.large',
  zone: 'cn-northwest-1a',
  region: 'cn-northwest-1',
  privateIp: '192.168.193.4',
  privateDnsName: 'ip-192-168-193-4.cn-northwest-1.compute.internal',
  vcpus: 2,
  memoryMiB: 4096,
  maxPods: 29,
  asgName: 'special',
};

describe('ASG settings of simulated kubelets', () => {
  it('node-template label and taint tags become the Node’s labels and taints at registration', () => {
    const tags = { ...nodeTemplateTags({ labels: { pool: 'special' }, taints: [{ key: 'dedicated', value: 'special', effect: 'NoSchedule' }, { key: 'gpu', value: '', effect: 'NoExecute' }] }), Name: 'x' };
    const s = asgNodeSettings(tags);
    expect(s).toEqual({
      labels: { pool: 'special' },
      taints: [
        { key: 'dedicated', value: 'special', effect: 'NoSchedule' },
        { key: 'gpu', effect: 'NoExecute' },
      ],
      neverJoin: false,
      joinDelayMs: 0,
    });
    const n = newNode(inst, s);
    expect(n.metadata?.labels?.pool).toBe('special');
    expect(n.metadata?.labels?.['node.kubernetes.io/instance-type']).toBe('c5.large');
    expect(n.spec?.taints).toEqual(s.taints);
  });

  it('kubelet’s own labels win over template labels', () => {
    const n = newNode(inst, asgNodeSettings(nodeTemplateTags({ labels: { 'topology.kubernetes.io/zone': 'elsewhere' } })));
    expect(n.metadata?.labels?.['topology.kubernetes.io/zone']).toBe('cn-northwest-1a');
  });

  it('without settings a Node has no taints', () => {
    expect(newNode(inst).spec).toEqual({ providerID: 'aws:///cn-northwest-1a/i-0abc' });
  });

  it('reads the testbed join tags; malformed ones change nothing', () => {
    expect(asgNodeSettings({ [NEVER_JOIN_TAG]: 'true' }).neverJoin).toBe(true);
    expect(asgNodeSettings({ [NEVER_JOIN_TAG]: 'yes' }).neverJoin).toBe(false);
    expect(asgNodeSettings({ [JOIN_DELAY_TAG]: '15' }).joinDelayMs).toBe(15_000);
    expect(asgNodeSettings({ [JOIN_DELAY_TAG]: 'soon' }).joinDelayMs).toBe(0);
    expect(asgNodeSettings({ [JOIN_DELAY_TAG]: '-3' }).joinDelayMs).toBe(0);
  });
});
