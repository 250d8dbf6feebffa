import type { V1Node, V1NodeStatus, V1Taint } from '@kubernetes/client-node';

/** What the simulator knows of one EC2 instance, read through DescribeInstances and DescribeInstanceTypes. */
export interface SimInstance {
  instanceId: string;
  instanceType: string;
  zone: string;
  region: string;
  privateIp: string;
  privateDnsName: string;
  vcpus: number;
  memoryMiB: number;
  maxPods: number;
  /** The Auto Scaling group that launched it (its `aws:autoscaling:groupName` tag). */
  asgName?: string;
}

/** What the testbed's kubelets keep back from allocatable (their --kube-reserved + --system-reserved). */
export const KUBELET_RESERVED = { cpuMillis: 100, memoryMiB: 512, ephemeralGiB: 2 } as const;
export const NODE_EPHEMERAL_GIB = 20;
export const KUBELET_VERSION = 'v1.37.2';

/**
 * The Node name a kubelet with the AWS cloud provider registers: the instance's private DNS name.
 * moto names instances launched by an Auto Scaling group `ip-….ec2.internal` whatever the region
 * (RunInstances gets it right); real EC2 uses `<region>.compute.internal` outside us-east-1.
 */
export function nodeNameFor(i: Pick<SimInstance, 'privateDnsName' | 'privateIp' | 'region'>): string {
  const regional = i.region === 'us-east-1' ? 'ec2.internal' : `${i.region}.compute.internal`;
  if (i.privateDnsName && (i.privateDnsName.endsWith(regional) || i.region === 'us-east-1')) return i.privateDnsName;
  return `ip-${i.privateIp.replaceAll('.', '-')}.${regional}`;
}

export function nodeLabels(i: SimInstance, name: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'topology.kubernetes.io/zone': i.zone,
    'topology.kubernetes.io/region': i.region,
    'node.kubernetes.io/instance-type': i.instanceType,
    // The beta names are still read by older schedulers' topology rules and some charts.
    'failure-domain.beta.kubernetes.io/zone': i.zone,
    'failure-domain.beta.kubernetes.io/region': i.region,
    'beta.kubernetes.io/instance-type': i.instanceType,
  };
}

/**
 * The Node kubelet registers for an instance. `extra` is what the node's user data would pass with
 * `--node-labels` and `--register-with-taints` (the testbed takes it from the ASG's node-template tags);
 * the well-known labels kubelet sets itself win over it.
 */
export function newNode(i: SimInstance, extra: { labels?: Record<string, string>; taints?: V1Taint[] } = {}): V1Node {
  const name = nodeNameFor(i);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { ...extra.labels, ...nodeLabels(i, name) },
      annotations: {
        'testbed.kube-iaas.dev/simulated': 'true',
        // What kubelet sets by default: the attach/detach controller, not kubelet, attaches this
        // node's volumes, so kube-controller-manager creates VolumeAttachments for CSI volumes.
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { providerID: `aws:///${i.zone}/${i.instanceId}`, ...(extra.taints?.length ? { taints: extra.taints } : {}) },
  };
}

export function nodeStatus(i: SimInstance, now: Date, readySince: Date): V1NodeStatus {
  const name = nodeNameFor(i);
  const capacity = {
    cpu: String(i.vcpus),
    memory: `${i.memoryMiB * 1024}Ki`,
    pods: String(i.maxPods),
    'ephemeral-storage': `${NODE_EPHEMERAL_GIB}Gi`,
  };
  const allocatable = {
    cpu: `${i.vcpus * 1000 - KUBELET_RESERVED.cpuMillis}m`,
    memory: `${(i.memoryMiB - KUBELET_RESERVED.memoryMiB) * 1024}Ki`,
    pods: String(i.maxPods),
    'ephemeral-storage': `${NODE_EPHEMERAL_GIB - KUBELET_RESERVED.ephemeralGiB}Gi`,
  };
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: readySince,
  });
  return {
    capacity,
    allocatable,
    addresses: [
      { type: 'InternalIP', address: i.privateIp },
      { type: 'InternalDNS', address: i.privateDnsName || name },
      { type: 'Hostname', address: name },
    ],
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'simulated kubelet is posting ready status'),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: i.instanceId,
      systemUUID: i.instanceId,
      bootID: i.instanceId,
      kernelVersion: '6.1.0-simulated',
      osImage: 'kube-iaas node simulator',
      containerRuntimeVersion: 'simulated://1.0',
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}
