// The volume-operator process: informers, the four controllers, the CSIDriver object, AWS clients.
import { awsClientOptions, awsFlags, flag, isKubeNotFound, Operator, resources, type KubeObject } from '@kube-iaas/core/runtime';
import { createAwsClients, type AwsClients } from '@kube-iaas/core/aws';
import { InstanceTypeCatalog } from '@kube-iaas/core/instance-types';
import { installCrds, type AwsVolume } from '@kube-iaas/crds';
import type { KubeConfig } from '@kubernetes/client-node';
import { Ebs } from './aws/ebs.ts';
import { AWS_VOLUME_TYPE, CSI_DRIVER_TYPE, DRIVER_NAME, OPERATOR_NAME, SELECTED_NODE_ANNOTATION } from './constants.ts';
import { claimsOfClass, reconcileClaim } from './controllers/claims.ts';
import type { VolumeContext } from './controllers/context.ts';
import { reconcileAttachment } from './controllers/attachments.ts';
import { sweepOrphans } from './controllers/orphans.ts';
import { reconcileAwsVolume } from './controllers/volumes.ts';
import { DeviceReservations } from './plan/devices.ts';
import { isOurClass } from './translate/claim.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass, VolumeAttachment } from './translate/types.ts';

export const volumeFlags = {
  'install-crds': flag.bool({ description: 'Apply the AwsVolume CRD at start (needs RBAC on customresourcedefinitions); otherwise the manifests install it.', default: true }),
  'install-csi-driver': flag.bool({ description: `Create the CSIDriver ${DRIVER_NAME} (attachRequired: true) at start if it is missing.`, default: true }),
  'orphan-scan-interval': flag.duration({ description: 'How often to look for EBS volumes whose AwsVolume is gone (0 disables).', default: 300_000, min: 0 }),
  'orphan-grace-period': flag.duration({ description: 'Delete orphaned volumes that are available and older than this (0: only report them).', default: 3_600_000, min: 0 }),
  ...awsFlags,
} as const;

/** The CSIDriver object: the attach/detach controller creates VolumeAttachments only for attachRequired drivers. */
export function csiDriverObject(): KubeObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: CSI_DRIVER_TYPE.apiVersion,
    kind: CSI_DRIVER_TYPE.kind,
    metadata: { name: DRIVER_NAME, labels: { 'app.kubernetes.io/part-of': 'kube-iaas', 'app.kubernetes.io/component': OPERATOR_NAME } },
    spec: { attachRequired: true, podInfoOnMount: false, requiresRepublish: false, storageCapacity: false, fsGroupPolicy: 'ReadWriteOnceWithFSType', volumeLifecycleModes: ['Persistent'] },
  };
}

export class VolumeOperator extends Operator<typeof volumeFlags> {
  aws: AwsClients | undefined;
  ctx: VolumeContext | undefined;

  constructor(opts: { argv?: readonly string[]; env?: Readonly<Record<string, string | undefined>>; kubeConfig?: KubeConfig } = {}) {
    super({ name: OPERATOR_NAME, flags: volumeFlags, ...opts });
  }

  protected async init(): Promise<void> {
    const cfg = this.config;
    if (cfg.installCrds) await installCrds(this.kubeConfig, { kinds: ['AwsVolume'], fieldManager: `kube-iaas-${OPERATOR_NAME}` });
    if (cfg.installCsiDriver) await this.ensureCsiDriver();
    const aws = await createAwsClients({ cluster: cfg.clusterName, logger: this.log, ...awsClientOptions(cfg) });
    this.aws = aws;

    const classes = this.informer<StorageClass>(resources.StorageClass);
    const claims = this.informer<PersistentVolumeClaim>(resources.PersistentVolumeClaim);
    const volumes = this.informer<PersistentVolume>(resources.PersistentVolume);
    const nodes = this.informer<Node>(resources.Node);
    const attachments = this.informer<VolumeAttachment>(resources.VolumeAttachment);
    const awsVolumes = this.informer<AwsVolume>(AWS_VOLUME_TYPE);

    const claimCtl = this.controller({ name: 'volume-claims', reconcile: (key) => reconcileClaim(ctx, key) });
    const volumeCtl = this.controller({ name: 'awsvolumes', reconcile: (key) => reconcileAwsVolume(ctx, key) });
    const attachCtl = this.controller({ name: 'volume-attachments', reconcile: (key) => reconcileAttachment(ctx, key) });

    const ctx: VolumeContext = {
      client: this.client,
      events: this.events,
      status: this.statusWriter,
      log: this.log,
      ebs: new Ebs(aws),
      catalog: new InstanceTypeCatalog(aws.ec2),
      reservations: new DeviceReservations(),
      informers: { classes, claims, volumes, nodes, attachments, awsVolumes },
      enqueueAwsVolume: (name) => volumeCtl.enqueue(name),
      enqueueClaim: (key) => claimCtl.enqueue(key),
    };
    this.ctx = ctx;

    const pvcKey = (c: PersistentVolumeClaim) => `${c.metadata?.namespace}/${c.metadata?.name}`;
    claimCtl
      .watch(claims, (c) => (c.spec?.storageClassName && isOurClass(classes.get(c.spec.storageClassName)) ? pvcKey(c) : undefined))
      .watch(classes, (sc) => (isOurClass(sc) ? claimsOfClass(ctx, sc.metadata?.name) : undefined))
      .watch(awsVolumes, (av) => (av.spec.claimRef ? `${av.spec.claimRef.namespace}/${av.spec.claimRef.name}` : undefined))
      // A selected node's labels are read when translating: a late zone label wakes its claims.
      .watch(nodes, (n) => claims.list().filter((c) => c.metadata?.annotations?.[SELECTED_NODE_ANNOTATION] === n.metadata?.name && !c.spec?.volumeName).map(pvcKey));
    volumeCtl
      .watch(awsVolumes)
      .watch(volumes, (pv) => (awsVolumes.get(pv.metadata?.name ?? '') ? pv.metadata?.name : undefined))
      .watch(claims, (c) => {
        const names = [`pvc-${c.metadata?.uid ?? ''}`];
        if (c.spec?.volumeName) names.push(c.spec.volumeName);
        return names.filter((n) => awsVolumes.get(n));
      })
      .watch(attachments, (va) => (va.spec.attacher === DRIVER_NAME ? va.spec.source.persistentVolumeName : undefined));
    attachCtl
      .watch(attachments, (va) => (va.spec.attacher === DRIVER_NAME ? va.metadata?.name : undefined))
      .watch(nodes, (n) => attachments.list().filter((va) => va.spec.nodeName === n.metadata?.name && va.spec.attacher === DRIVER_NAME && !va.status?.attached).map((va) => va.metadata?.name ?? ''));
    // Volumes are checked again after a modification or a status change of their PV.

    if (cfg.orphanScanInterval > 0) {
      const opts = { intervalMs: cfg.orphanScanInterval, gracePeriodMs: cfg.orphanGracePeriod };
      this.controller({ name: 'volume-orphans', workers: 1, resyncPeriodMs: 0, resyncKeys: () => ['sweep'], reconcile: () => sweepOrphans(ctx, opts) });
    }
  }

  /** Creates the CSIDriver if it is missing; an existing one is left as it is (it is immutable in parts). */
  async ensureCsiDriver(): Promise<void> {
    try {
      const existing = await this.client.get<KubeObject & { spec?: { attachRequired?: boolean } }>(CSI_DRIVER_TYPE, DRIVER_NAME);
      if (existing) {
        if (existing.spec?.attachRequired !== true) this.log.warn({ driver: DRIVER_NAME }, 'CSIDriver exists with attachRequired not true: the attach/detach controller will not create VolumeAttachments');
        return;
      }
      await this.client.create(CSI_DRIVER_TYPE, csiDriverObject());
      this.log.info({ driver: DRIVER_NAME }, 'CSIDriver created');
    } catch (err) {
      if (isKubeNotFound(err)) throw err;
      if ((err as { code?: number }).code === 409) return;
      throw err;
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.aws?.destroy();
  }
}
