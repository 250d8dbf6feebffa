// The EBS and EC2 calls of the volume-operator, through core's guarded, counted, classified clients.
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DescribeVolumesModificationsCommand,
  DetachVolumeCommand,
  ModifyVolumeCommand,
  type VolumeType as Ec2VolumeType,
} from '@aws-sdk/client-ec2';
import {
  OWNER_CLUSTER_TAG,
  OWNER_KIND_TAG,
  OWNER_TAG,
  OWNER_UID_TAG,
  clusterTaggedFilterSets,
  nameTag,
  ownedTags,
  toTagSpecifications,
  volumeTags,
  type OwnerRef,
  type Tags,
} from '@kube-iaas/core/tags';
import { classifyAwsError, describeInstances, describeSubnets, describeVolumes, type AwsClients, type Volume } from '@kube-iaas/core/aws';
import type { AwsVolume } from '@kube-iaas/crds';
import type { InstanceAttachments } from '../plan/limits.ts';
import { DescribeBatcher } from './batch.ts';
import { describeKmsKey, type KmsKeyLookup } from './kms.ts';
import type { VolumeModification } from '../plan/volume.ts';

export const AWS_VOLUME_KIND = 'AwsVolume';

/** The owner a volume is tagged with: the AwsVolume (cluster-scoped, so no namespace). */
export function volumeOwner(av: AwsVolume): OwnerRef {
  return { kind: AWS_VOLUME_KIND, name: av.metadata.name ?? '', uid: av.metadata.uid ?? '' };
}

/**
 * The idempotency token of the CreateVolume for an AwsVolume: its UID. A retry after a crash
 * between CreateVolume and the status write returns the same volume (on AWS; moto ignores the token,
 * which is why a lookup by owner tags comes first).
 */
export function clientToken(av: AwsVolume): string {
  return `kube-iaas-${av.metadata.uid ?? av.metadata.name ?? ''}`.slice(0, 64);
}

/** Every tag of a volume created for `av`: cluster + owner tags, the created-for tags, a Name, the spec's extra tags. */
export function tagsForVolume(cluster: string, av: AwsVolume): Tags {
  const pvName = av.metadata.name ?? '';
  const extra: Record<string, string> = { ...nameTag(`${cluster}-dynamic-${pvName}`), ...(av.spec.tags ?? {}) };
  if (av.spec.claimRef) Object.assign(extra, volumeTags({ pvcName: av.spec.claimRef.name, pvcNamespace: av.spec.claimRef.namespace, pvName }));
  return ownedTags(cluster, volumeOwner(av), extra);
}

export const isNotFound = (err: unknown): boolean => classifyAwsError(err).kind === 'not-found';

export class Ebs {
  readonly aws: AwsClients;
  #zones: { at: number; zones: string[] } | undefined;
  #zonesInFlight: Promise<string[]> | undefined;
  readonly #zonesTtlMs: number;
  readonly #byId: DescribeBatcher<Volume>;
  readonly #byOwnerUid: DescribeBatcher<Volume>;
  readonly #kmsKeys = new Map<string, { at: number; lookup: Promise<KmsKeyLookup> }>();
  readonly #kmsTtlMs: number;

  constructor(aws: AwsClients, opts: { zonesTtlMs?: number; batchWindowMs?: number; kmsTtlMs?: number } = {}) {
    this.aws = aws;
    this.#zonesTtlMs = opts.zonesTtlMs ?? 300_000;
    this.#kmsTtlMs = opts.kmsTtlMs ?? 300_000;
    const window = { windowMs: opts.batchWindowMs ?? 20 };
    // Concurrent reconciles share one DescribeVolumes per batch (by ID, and by owner UID).
    this.#byId = new DescribeBatcher(async (ids) => {
      const vols = await describeVolumes(this.aws.ec2, { filters: [{ Name: 'volume-id', Values: ids }] });
      return new Map(vols.map((v) => [v.id, [v]]));
    }, window);
    this.#byOwnerUid = new DescribeBatcher(async (uids) => {
      const vols = await describeVolumes(this.aws.ec2, {
        filters: [
          { Name: `tag:${OWNER_CLUSTER_TAG}`, Values: [this.cluster] },
          { Name: `tag:${OWNER_KIND_TAG}`, Values: [AWS_VOLUME_KIND] },
          { Name: `tag:${OWNER_UID_TAG}`, Values: uids },
        ],
      });
      const out = new Map<string, Volume[]>();
      for (const v of vols) {
        const uid = v.tags[OWNER_UID_TAG] ?? '';
        out.set(uid, [...(out.get(uid) ?? []), v]);
      }
      return out;
    }, window);
  }

  get cluster(): string {
    return this.aws.cluster;
  }

  /** Zones with a subnet tagged for this cluster (owned or shared), sorted; cached for 5 minutes. */
  async clusterZones(): Promise<string[]> {
    if (this.#zones && Date.now() - this.#zones.at < this.#zonesTtlMs) return this.#zones.zones;
    this.#zonesInFlight ??= describeSubnets(this.aws.ec2, { anyOf: clusterTaggedFilterSets(this.cluster) })
      .then((subnets) => {
        const zones = [...new Set(subnets.map((s) => s.availabilityZone).filter(Boolean))].sort();
        this.#zones = { at: Date.now(), zones };
        return zones;
      })
      .finally(() => (this.#zonesInFlight = undefined));
    return this.#zonesInFlight;
  }

  /**
   * The KMS key a `kmsKeyId` (ID, alias or ARN) names. A key that was found is remembered for 5 minutes
   * (100 claims of one class cost one DescribeKey); "not found" and errors are asked again next time,
   * so a key created after the class is picked up at the next retry.
   */
  kmsKey(keyId: string): Promise<KmsKeyLookup> {
    const hit = this.#kmsKeys.get(keyId);
    if (hit && Date.now() - hit.at < this.#kmsTtlMs) return hit.lookup;
    const lookup = describeKmsKey(this.aws.kms, keyId);
    this.#kmsKeys.set(keyId, { at: Date.now(), lookup });
    lookup.then(
      (r) => {
        if (!r.found || r.key.state !== 'Enabled') this.#kmsKeys.delete(keyId);
      },
      () => this.#kmsKeys.delete(keyId),
    );
    return lookup;
  }

  /** One volume by ID (undefined when it does not exist); concurrent calls share one DescribeVolumes. */
  async describe(volumeId: string): Promise<Volume | undefined> {
    return (await this.#byId.get(volumeId))[0];
  }

  /** Volumes created for this AwsVolume (owner tags incl. UID), oldest first; batched like `describe`. */
  async findOwned(av: AwsVolume): Promise<Volume[]> {
    const owner = volumeOwner(av);
    const vols = (await this.#byOwnerUid.get(owner.uid)).filter((v) => v.tags[OWNER_TAG] === owner.name);
    return vols.filter((v) => v.state !== 'deleting' && v.state !== 'deleted').sort((a, b) => (a.createTime?.getTime() ?? 0) - (b.createTime?.getTime() ?? 0));
  }

  /** Every volume kube-iaas created for an AwsVolume in this cluster (orphan scan). */
  listOwnedByCluster(): Promise<Volume[]> {
    return describeVolumes(this.aws.ec2, {
      filters: [
        { Name: `tag:${OWNER_CLUSTER_TAG}`, Values: [this.cluster] },
        { Name: `tag:${OWNER_KIND_TAG}`, Values: [AWS_VOLUME_KIND] },
      ],
    });
  }

  /** `kmsKeyArn`: the key `spec.kmsKeyId` resolved to, so an alias moved later cannot change which key is used. */
  async create(av: AwsVolume, opts: { kmsKeyArn?: string } = {}): Promise<Volume> {
    const s = av.spec;
    const kmsKeyId = opts.kmsKeyArn ?? s.kmsKeyId;
    const tags = tagsForVolume(this.cluster, av);
    const out = await this.aws.guard.asOwner(volumeOwner(av), () =>
      this.aws.ec2.send(
        new CreateVolumeCommand({
          AvailabilityZone: s.availabilityZone,
          Size: s.sizeGiB,
          VolumeType: (s.volumeType ?? 'gp3') as Ec2VolumeType,
          ...(s.iops !== undefined ? { Iops: s.iops } : {}),
          ...(s.throughput !== undefined ? { Throughput: s.throughput } : {}),
          Encrypted: s.encrypted ?? false,
          ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
          ClientToken: clientToken(av),
          TagSpecifications: toTagSpecifications('volume', tags),
        }),
      ),
    );
    return {
      id: out.VolumeId ?? '',
      availabilityZone: out.AvailabilityZone ?? s.availabilityZone ?? '',
      sizeGiB: out.Size ?? s.sizeGiB,
      volumeType: out.VolumeType ?? s.volumeType ?? 'gp3',
      ...(out.Iops !== undefined ? { iops: out.Iops } : {}),
      ...(out.Throughput !== undefined ? { throughput: out.Throughput } : {}),
      state: out.State ?? 'creating',
      encrypted: out.Encrypted ?? false,
      ...(out.KmsKeyId ? { kmsKeyId: out.KmsKeyId } : {}),
      ...(out.CreateTime ? { createTime: out.CreateTime } : {}),
      attachments: [],
      tags,
    };
  }

  async modify(owner: OwnerRef | undefined, volumeId: string, mod: VolumeModification): Promise<void> {
    await this.#as(owner, () => this.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: mod.Size, Iops: mod.Iops, Throughput: mod.Throughput, VolumeType: mod.VolumeType as Ec2VolumeType | undefined })));
  }

  /** State of the latest modification (`modifying`, `optimizing`, `completed`, `failed`), if any. */
  async modificationState(volumeId: string): Promise<{ state: string; targetSize?: number; message?: string } | undefined> {
    try {
      const out = await this.aws.ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [volumeId] }));
      const latest = [...(out.VolumesModifications ?? [])].sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))[0];
      if (!latest?.ModificationState) return undefined;
      return { state: latest.ModificationState, ...(latest.TargetSize !== undefined ? { targetSize: latest.TargetSize } : {}), ...(latest.StatusMessage ? { message: latest.StatusMessage } : {}) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(owner: OwnerRef | undefined, volumeId: string): Promise<void> {
    try {
      await this.#as(owner, () => this.aws.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async attach(owner: OwnerRef | undefined, volumeId: string, instanceId: string, device: string): Promise<void> {
    await this.#as(owner, () => this.aws.ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device })));
  }

  /** Detaches; an attachment that is already gone counts as done. */
  async detach(owner: OwnerRef | undefined, volumeId: string, instanceId: string): Promise<void> {
    try {
      await this.#as(owner, () => this.aws.ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId })));
    } catch (err) {
      const c = classifyAwsError(err);
      if (c.kind === 'not-found' || c.code === 'IncorrectState') return;
      throw err;
    }
  }

  /**
   * Hands a retained volume over: removes the kube-iaas owner tags (the cluster tag stays), so the
   * orphan sweep never takes it for leftover of a deleted AwsVolume.
   */
  async release(owner: OwnerRef, volumeId: string): Promise<void> {
    await this.#as(owner, () =>
      this.aws.ec2.send(new DeleteTagsCommand({ Resources: [volumeId], Tags: [OWNER_CLUSTER_TAG, OWNER_KIND_TAG, OWNER_TAG, OWNER_UID_TAG].map((Key) => ({ Key })) })),
    );
  }

  /** The instance's device mappings, type, zone and attached ENIs: what device picking and the attach limit need. */
  async instance(instanceId: string): Promise<(InstanceAttachments & { availabilityZone?: string; state?: string }) | undefined> {
    try {
      const [i] = await describeInstances(this.aws.ec2, { ids: [instanceId] });
      if (!i) return undefined;
      return {
        instanceId,
        instanceType: i.instanceType,
        devices: i.blockDevices.map((b) => b.deviceName),
        ...(i.rootDeviceName ? { rootDevice: i.rootDeviceName } : {}),
        attachedEnis: Math.max(1, i.networkInterfaces.length),
        ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
        state: i.state,
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  #as<T>(owner: OwnerRef | undefined, fn: () => Promise<T>): Promise<T> {
    return owner ? this.aws.guard.asOwner(owner, fn) : fn();
  }
}
