import { describe, expect, it } from 'vitest';
import { KUBELET_RESERVED, newNode, nodeNameFor, nodeStatus, type SimInstance } from '../../src/node-simulator/node-object.ts';
import { podStatus } from '../../src/node-simulator/pod-status.ts';

const inst: SimInstance = {
  instanceId: 'i-0abc',
  instanceType: 'c5.large',
  zone: 'cn-northwest-1a',
  region: 'cn-northwest-1',
  privateIp: '192.168.193.194',
  privateDnsName: 'ip-192-168-193-194.cn-northwest-1.compute.internal',
  vcpus: 2,
  memoryMiB: 4096,
  maxPods: 29,
};

describe('node object', () => {
  it('names the node after the private DNS name', () => {
    expect(nodeNameFor(inst)).toBe('ip-192-168-193-194.cn-northwest-1.compute.internal');
  });

  it('repairs the us-east-1 style name moto gives ASG instances in other regions', () => {
    expect(nodeNameFor({ ...inst, privateDnsName: 'ip-192-168-193-4.ec2.internal', privateIp: '192.168.193.4' })).toBe(
      'ip-192-168-193-4.cn-northwest-1.compute.internal',
    );
    expect(nodeNameFor({ ...inst, region: 'us-east-1', privateDnsName: 'ip-10-0-0-1.ec2.internal' })).toBe('ip-10-0-0-1.ec2.internal');
  });

  it('carries the providerID and topology labels the operators read', () => {
    const n = newNode(inst);
    expect(n.spec!.providerID).toBe('aws:///cn-northwest-1a/i-0abc');
    expect(n.metadata!.labels!['topology.kubernetes.io/zone']).toBe('cn-northwest-1a');
    expect(n.metadata!.labels!['node.kubernetes.io/instance-type']).toBe('c5.large');
    expect(n.metadata!.annotations!['volumes.kubernetes.io/controller-managed-attach-detach']).toBe('true');
  });

  it('reports allocatable as capacity less the kubelet reservation', () => {
    const s = nodeStatus(inst, new Date(), new Date());
    expect(s.capacity).toMatchObject({ cpu: '2', pods: '29', memory: '4194304Ki' });
    expect(s.allocatable!.cpu).toBe(`${2000 - KUBELET_RESERVED.cpuMillis}m`);
    expect(s.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
  });
});

describe('pod status', () => {
  const pod = { metadata: { uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
  it('runs a pod with its address', () => {
    const s = podStatus(pod, '192.168.193.194', { ready: true, podIP: '192.168.193.50' }, new Date());
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('192.168.193.50');
    expect(s.containerStatuses![0]!.ready).toBe(true);
  });
  it('keeps a gated pod Pending with the reason kubelet would show', () => {
    const s = podStatus(pod, '192.168.193.194', { ready: false, reason: 'ContainerCreating', message: 'waiting for volume' }, new Date());
    expect(s.phase).toBe('Pending');
    expect(s.podIP).toBeUndefined();
    expect(s.containerStatuses![0]!.state!.waiting!.reason).toBe('ContainerCreating');
  });
});
