import { createLogger } from '@kube-iaas/core/log';
import { loadCsi } from './csi-spec.ts';
import { attachLimit, parseNodeFlags, USAGE } from './flags.ts';
import { identityHandlers } from './identity.ts';
import { readInstanceIdentity, type InstanceIdentity } from './imds.ts';
import { NodeService } from './node-service.ts';
import { listen, unary } from './server.ts';

// The node plugin's entry point. It loads neither the AWS SDK nor the Kubernetes client: everything
// it needs arrives in the CO's calls and its flags.
if (process.argv.includes('--help')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
let flags;
try {
  flags = parseNodeFlags(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const log = createLogger('volume-node-plugin', flags.logLevel);
// Instance metadata only for what the flags leave out (tests and the testbed give both).
let metadata: InstanceIdentity | undefined;
if (!flags.nodeId || !flags.zone || (flags.attachLimit.explicit === undefined && flags.attachLimit.attachedEnis === undefined)) {
  try {
    metadata = await readInstanceIdentity();
  } catch (err) {
    if (!flags.nodeId || !flags.zone) {
      log.fatal({ err: (err as Error).message }, 'no --node-id / --zone given and instance metadata unreachable');
      process.exit(2);
    }
    log.warn({ err: (err as Error).message }, 'instance metadata unreachable: attach limit counts 1 ENI');
  }
}
const config = {
  ...flags,
  nodeId: flags.nodeId || metadata!.instanceId,
  zone: flags.zone || metadata!.zone,
  maxVolumesPerNode: attachLimit(flags.attachLimit, metadata?.attachedEnis),
};
const csi = await loadCsi(config.protoPath);
const node = new NodeService(config, log);
let ready = false;
const { server, path } = await listen(flags.endpoint, [
  [csi.Identity.service, unary(log, identityHandlers(() => ready))],
  [
    csi.Node.service,
    unary(log, {
      NodeStageVolume: (r) => node.stage(r),
      NodeUnstageVolume: (r) => node.unstage(r),
      NodePublishVolume: (r) => node.publish(r),
      NodeUnpublishVolume: (r) => node.unpublish(r),
      NodeGetVolumeStats: (r) => node.getVolumeStats(r),
      NodeGetVolumeHealth: (r) => node.getVolumeHealth(r),
      NodeExpandVolume: (r) => node.expand(r),
      NodeGetCapabilities: async () => node.getCapabilities(),
      NodeGetInfo: async () => node.getInfo(),
    }),
  ],
]);
ready = true;
log.info({ socket: path, nodeId: config.nodeId, zone: config.zone, maxVolumesPerNode: config.maxVolumesPerNode, deviceRoot: config.deviceRoot }, 'CSI node plugin listening');

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  server.tryShutdown(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
