import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { blockPublishPath, blockStagingPath, nitroLink, podVolumePath, stagingPath, storageLayout } from '../../src/node-simulator/host-storage.ts';
import { csiKubeletFromEnv } from '../../src/node-simulator/csi-setup.ts';

describe('the kubelet layout under the simulator root', () => {
  const kubelet = storageLayout('/r').kubelet('i-0abc');

  it('stages per volume handle (sha256), publishes per pod and PV, as kubelet 1.24+', () => {
    const sha = createHash('sha256').update('vol-0123456789abcdef0').digest('hex');
    expect(kubelet).toBe('/r/nodes/i-0abc/kubelet');
    expect(stagingPath(kubelet, 'ebs.kube-iaas.dev', 'vol-0123456789abcdef0')).toBe(`/r/nodes/i-0abc/kubelet/plugins/kubernetes.io/csi/ebs.kube-iaas.dev/${sha}/globalmount`);
    expect(podVolumePath(kubelet, 'uid-1', 'pvc-1')).toBe('/r/nodes/i-0abc/kubelet/pods/uid-1/volumes/kubernetes.io~csi/pvc-1/mount');
    expect(blockStagingPath(kubelet, 'pvc-1')).toBe('/r/nodes/i-0abc/kubelet/plugins/kubernetes.io/csi/volumeDevices/staging/pvc-1');
    expect(blockPublishPath(kubelet, 'pvc-1', 'uid-1')).toBe('/r/nodes/i-0abc/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-1/uid-1');
  });

  it('names the device as udev does on Nitro (serial = volume ID without its dash), data files outside the nodes', () => {
    expect(nitroLink('/r/nodes/i-0abc/dev', 'vol-0123456789abcdef0')).toBe('/r/nodes/i-0abc/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0');
    expect(storageLayout('/r').dataFile('vol-1')).toBe('/r/ebs/vol-1.img');
    expect(storageLayout('/r').socket('i-0abc')).toBe('/r/sock/i-0abc.sock');
  });
});

describe('csiKubeletFromEnv', () => {
  it('keeps the old behaviour and says why once when the testbed did not set it up', () => {
    const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
    const got = csiKubeletFromEnv({}, { kc: {} as KubeConfig, ec2: {} as EC2Client, log: (msg, fields) => lines.push({ msg, fields }) });
    expect(got).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/not run/);
    expect(lines[0]!.fields?.reason).toMatch(/NODE_SIM_ROOT/);
  });
});
