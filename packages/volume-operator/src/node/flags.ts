import { parseArgs } from 'node:util';
import { ebsLimitsOf, ebsVolumeSlots } from '@kube-iaas/core/instance-types/facts';
import { defaultProtoPath } from './csi-spec.ts';
import type { NodeConfig } from './node-service.ts';

export interface NodePluginFlags extends Omit<NodeConfig, 'nodeId' | 'zone' | 'maxVolumesPerNode'> {
  endpoint: string;
  protoPath: string;
  logLevel: string;
  /** Empty: read from instance metadata. */
  nodeId: string;
  zone: string;
  attachLimit: AttachLimitInputs;
}

export interface AttachLimitInputs {
  explicit?: number;
  hypervisor: 'nitro' | 'xen';
  /** Undefined: the ENIs instance metadata lists (1 without it). */
  attachedEnis?: number;
  instanceStoreVolumes: number;
}

/** The same count the controller checks before AttachVolume (core's ebsVolumeSlots). */
export function attachLimit(inputs: AttachLimitInputs, enisFromMetadata?: number): number {
  if (inputs.explicit !== undefined) return inputs.explicit;
  return ebsVolumeSlots(
    { ebs: ebsLimitsOf({ Hypervisor: inputs.hypervisor }), instanceStoreVolumes: inputs.instanceStoreVolumes },
    { attachedEnis: inputs.attachedEnis ?? enisFromMetadata ?? 1 },
  );
}

export const USAGE = `ebs.kube-iaas.dev CSI node plugin

  --endpoint URL              CSI socket (CSI_ENDPOINT; default unix:///csi/csi.sock)
  --node-id ID                EC2 instance ID of this node (NODE_ID; default: instance metadata)
  --zone ZONE                 availability zone of this node (NODE_ZONE; default: instance metadata)
  --volume-attach-limit N     EBS volumes this node may take (default: core's EBS slots, see below)
  --hypervisor nitro|xen      for the default attach limit (default nitro)
  --attached-enis N           ENIs that take Nitro attachment slots (default: instance metadata, else 1)
  --instance-store-volumes N  NVMe instance-store volumes that take slots (default 0)
  --device-root DIR           where block devices and disk/by-id links are found (default /dev)
  --sys-root DIR              sysfs (default /sys)
  --device-wait-timeout S     seconds to wait for an attached volume's device (default 30)
  --csi-proto FILE            csi.proto (CSI_PROTO_PATH; default the build cache)
  --log-level LEVEL           (LOG_LEVEL; default info)
`;

function int(name: string, value: string | undefined, def: number): number;
function int(name: string, value: string | undefined, def: undefined): number | undefined;
function int(name: string, value: string | undefined, def: number | undefined): number | undefined {
  if (value === undefined || value === '') return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** Flags and their environment fallbacks; throws naming the flag that is wrong or missing. */
export function parseNodeFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): NodePluginFlags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      endpoint: { type: 'string' },
      'node-id': { type: 'string' },
      zone: { type: 'string' },
      'volume-attach-limit': { type: 'string' },
      hypervisor: { type: 'string' },
      'attached-enis': { type: 'string' },
      'instance-store-volumes': { type: 'string' },
      'device-root': { type: 'string' },
      'sys-root': { type: 'string' },
      'device-wait-timeout': { type: 'string' },
      'csi-proto': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const hypervisor = values.hypervisor ?? 'nitro';
  if (hypervisor !== 'nitro' && hypervisor !== 'xen') throw new Error(`--hypervisor must be nitro or xen, got "${hypervisor}"`);
  return {
    endpoint: values.endpoint ?? env['CSI_ENDPOINT'] ?? 'unix:///csi/csi.sock',
    nodeId: values['node-id'] ?? env['NODE_ID'] ?? '',
    zone: values.zone ?? env['NODE_ZONE'] ?? '',
    attachLimit: {
      explicit: int('volume-attach-limit', values['volume-attach-limit'], undefined),
      hypervisor,
      attachedEnis: int('attached-enis', values['attached-enis'], undefined),
      instanceStoreVolumes: int('instance-store-volumes', values['instance-store-volumes'], 0),
    },
    deviceRoot: values['device-root'] ?? '/dev',
    sysRoot: values['sys-root'] ?? '/sys',
    timeoutMs: int('device-wait-timeout', values['device-wait-timeout'], 30) * 1000,
    protoPath: values['csi-proto'] ?? env['CSI_PROTO_PATH'] ?? defaultProtoPath(env),
    logLevel: values['log-level'] ?? env['LOG_LEVEL'] ?? 'info',
  };
}
