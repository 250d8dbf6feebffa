// AWS I/O of the pool: read the instance and its ENIs, and carry out a pool plan through core's
// guarded clients, always inside the pool's owner scope (`guard.asOwner`): creates must carry the
// pool's owner tags, and attach, detach, delete and modify are refused on an ENI tagged for anyone
// else. Assigning and unassigning addresses is checked against the owner too (below), except on the
// instance's primary ENI, which carries no owner tags (the guard judges it by its instance, as shared).
import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  UnassignPrivateIpAddressesCommand,
} from '@aws-sdk/client-ec2';
import {
  classifyAwsError,
  describeInstances,
  describeNetworkInterfaces,
  describeSubnets,
  type AwsClients,
  type Instance,
  type NetworkInterface,
} from '@kube-iaas/core/aws';
import {
  eniTags,
  isOwnedBy,
  nameTag,
  ownedByOwnerFilters,
  ownedTags,
  OwnershipError,
  toTagSpecifications,
  type OwnerRef,
} from '@kube-iaas/core/tags';
import { RetryAfterError } from '@kube-iaas/core/runtime';
import type { PoolAction, PoolEni } from '../plan/index.ts';

export interface ActualPool {
  instance: Instance;
  /** The instance's primary ENI (device index 0) and the attached ENIs tagged for this pool (name and UID). */
  attached: NetworkInterface[];
  /**
   * Other ENIs attached to the instance (another pool's, a user's, another tool's): never used for pod
   * addresses, never changed; their device indexes are taken.
   */
  foreign: NetworkInterface[];
  /** ENIs tagged for this pool that are not attached (a crash between create and attach, or a detach). */
  detached: NetworkInterface[];
  subnetCidrs: Map<string, string>;
}

export class InstanceGoneError extends Error {
  readonly kind = 'terminal';
}

/**
 * The instance and its ENIs (three describes in parallel; subnet CIDRs, which never change, from
 * `cidrs` when known); throws InstanceGoneError when the instance does not exist or no longer runs.
 */
export async function readActual(clients: AwsClients, instanceId: string, owner: OwnerRef, cidrs: Map<string, string> = new Map()): Promise<ActualPool> {
  const [instances, attached, ours] = await Promise.all([
    describeInstances(clients.ec2, { ids: [instanceId] }).catch((e: unknown) => {
      if (classifyAwsError(e).kind === 'not-found') throw new InstanceGoneError(`instance ${instanceId} does not exist`);
      throw e;
    }),
    describeNetworkInterfaces(clients.ec2, { filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }),
    describeNetworkInterfaces(clients.ec2, { filters: ownedByOwnerFilters(clients.cluster, owner, { byUid: true }) }),
  ]);
  const instance = instances[0];
  if (!instance || instance.state === 'terminated' || instance.state === 'shutting-down') throw new InstanceGoneError(`instance ${instanceId} is ${instance?.state ?? 'gone'}`);
  const detached = ours.filter((n) => n.status === 'available');
  const mine = (n: NetworkInterface) => n.attachment?.deviceIndex === 0 || isOwnedBy(n.tags, clients.cluster, owner);
  const missing = [...new Set(attached.filter(mine).map((n) => n.subnetId))].filter((id) => !cidrs.has(id));
  if (missing.length) for (const s of await describeSubnets(clients.ec2, { ids: missing })) cidrs.set(s.id, s.cidrBlock);
  return { instance, attached: attached.filter(mine), foreign: attached.filter((n) => !mine(n)), detached, subnetCidrs: cidrs };
}

export function toPoolEni(n: NetworkInterface): PoolEni {
  // A Set: moto can list one address twice on an ENI.
  return { eniId: n.id, deviceIndex: n.attachment?.deviceIndex ?? -1, secondaryIps: [...new Set(n.privateIpAddresses.filter((ip) => ip !== n.primaryPrivateIpAddress))] };
}

/**
 * Addresses of this pool that another ENI in the same subnets also holds (never on AWS; moto picks
 * addresses at random without checking), so called only with `--aws-emulator-quirks`. An address we have not recorded in status yet (`fresh`)
 * yields to anyone; a recorded one that no pod of ours holds yields to an ENI with a smaller ID, so
 * two pools decide the same way. Called only when the pool is about to hand addresses out.
 */
export async function foreignDuplicates(
  clients: AwsClients,
  mine: readonly PoolEni[],
  subnetIds: readonly string[],
  fresh: ReadonlySet<string>,
  allocated: ReadonlySet<string>,
): Promise<{ eniId: string; ips: string[] }[]> {
  if (subnetIds.length === 0) return [];
  const others = (await describeNetworkInterfaces(clients.ec2, { filters: [{ Name: 'subnet-id', Values: [...subnetIds] }] })).filter((n) => !mine.some((m) => m.eniId === n.id));
  const out: { eniId: string; ips: string[] }[] = [];
  for (const e of mine) {
    const ips = e.secondaryIps.filter((ip) => {
      const holders = others.filter((o) => o.privateIpAddresses.includes(ip));
      if (holders.length === 0) return false;
      if (fresh.has(ip)) return true;
      return !allocated.has(ip) && holders.some((o) => o.primaryPrivateIpAddress === ip || o.id < e.eniId);
    });
    if (ips.length) out.push({ eniId: e.eniId, ips });
  }
  return out;
}

export interface ApplyContext {
  clients: AwsClients;
  owner: OwnerRef;
  instanceId: string;
  subnetId: string;
  securityGroupIds: string[];
  onApplied?: (a: PoolAction, detail: string) => void;
  /** A step that AWS (moto) made go wrong was undone and done again. */
  onRetried?: (detail: string) => void;
  /** Check for moto's repeated addresses (`--aws-emulator-quirks`); off on AWS, which never repeats one. */
  emulatorQuirks?: boolean;
}

/** How soon to look again at an ENI that is still detaching (AWS takes a few seconds). */
export const DETACHING_RECHECK_MS = 2_000;

/** Attaches an existing ENI of ours at a device index, with DeleteOnTermination. */
export function attachEni(ctx: ApplyContext, eniId: string, deviceIndex: number): Promise<void> {
  const { ec2, guard } = ctx.clients;
  return guard.asOwner(ctx.owner, async () => {
    const a = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: ctx.instanceId, DeviceIndex: deviceIndex }));
    if (a.AttachmentId) {
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attachment: { AttachmentId: a.AttachmentId, DeleteOnTermination: true } }));
    }
  });
}

/**
 * Detaches (when attached) and deletes an ENI of `owner`'s (the guard refuses one tagged for anyone
 * else). An ENI at device index 0 is an instance's primary: it cannot be detached and goes with the
 * instance, so it is left alone (moto has been seen listing one with our tags after an ASG instance was
 * terminated).
 */
export async function deleteEni(clients: AwsClients, owner: OwnerRef, eni: Pick<NetworkInterface, 'id' | 'attachment'>): Promise<void> {
  if (eni.attachment?.deviceIndex === 0) return;
  const attachmentId = eni.attachment?.id;
  await clients.guard.asOwner(owner, async () => {
    try {
      // One already detaching (an earlier round asked) is not detached again.
      if (attachmentId && eni.attachment?.status !== 'detaching') await clients.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId }));
      await clients.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.id }));
    } catch (e) {
      const c = classifyAwsError(e);
      if (c.kind === 'not-found') return;
      // Still detaching: the reconcile is requeued and deletes it then, instead of holding its worker.
      if (attachmentId && c.code === 'InvalidNetworkInterface.InUse') throw new RetryAfterError(`ENI ${eni.id} is still detaching`, DETACHING_RECHECK_MS, { cause: e });
      throw e;
    }
  });
}

/** Subnets and security groups a pool may put its ENIs in without their being tagged for the cluster. */
export interface NetworkAllowance {
  /** The operator's --eni-subnets and --eni-security-groups: what a Node's pool gets from the flags. */
  subnetIds: readonly string[];
  securityGroupIds: readonly string[];
}

/**
 * A pool's spec.subnetId and spec.securityGroupIds may name what a Node's pool could get — the
 * operator's flags, the instance's primary ENI's subnet and groups — or a subnet or group tagged for this
 * cluster (what the IAM policy allows), nothing else: a hand-written pool does not put pod ENIs in
 * another cluster's or an untagged group. Returns the refusal naming the field, or undefined. Reads tags
 * through the guard (cached; the primary's and the flags' need no read).
 */
export async function networkRefusal(
  clients: AwsClients,
  spec: { subnetId?: string | undefined; securityGroupIds?: readonly string[] | undefined },
  primary: Pick<NetworkInterface, 'subnetId' | 'securityGroupIds'> | undefined,
  allowed: NetworkAllowance,
): Promise<string | undefined> {
  const judge = async (field: string, id: string, check: () => Promise<unknown>): Promise<string | undefined> => {
    try {
      await check();
      return undefined;
    } catch (e) {
      if (e instanceof OwnershipError) return `${field}: ${e.message}`;
      if (classifyAwsError(e).kind === 'not-found') return `${field}: ${id} does not exist`;
      throw e;
    }
  };
  if (spec.subnetId && spec.subnetId !== primary?.subnetId && !allowed.subnetIds.includes(spec.subnetId)) {
    const id = spec.subnetId;
    const r = await judge('spec.subnetId', id, () => clients.guard.checkSubnet(id, 'additive'));
    if (r) return r;
  }
  for (const [i, id] of (spec.securityGroupIds ?? []).entries()) {
    if (primary?.securityGroupIds.includes(id) || allowed.securityGroupIds.includes(id)) continue;
    const r = await judge(`spec.securityGroupIds[${i}]`, id, () => clients.guard.checkSecurityGroup(id, 'additive'));
    if (r) return r;
  }
  return undefined;
}

/** How many times a new ENI whose primary address another ENI already holds is deleted and created again. */
const PRIMARY_CLASH_RETRIES = 3;

/**
 * Creates an ENI of the pool (not attached yet). moto picks a new ENI's primary address at random
 * without looking at the secondaries in the subnet; a primary equal to an address a pod already holds
 * would take that address out of the pool's record while the pod keeps it, and the pool would then
 * grow past the instance's limit. With `emulatorQuirks` such an ENI is deleted before it is attached and
 * created again (one describe of the subnet per new ENI). Without it no check is made: AWS never gives
 * out a held address.
 */
async function createEni(ctx: ApplyContext, deviceIndex: number, ipCount: number): Promise<{ id: string; calls: number }> {
  const { ec2 } = ctx.clients;
  const tags = ownedTags(ctx.clients.cluster, ctx.owner, { ...eniTags({ instanceId: ctx.instanceId }), ...nameTag(`${ctx.owner.name}-${deviceIndex}`) });
  let calls = 0;
  for (let attempt = 1; ; attempt++) {
    const created = await ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: ctx.subnetId,
        Groups: ctx.securityGroupIds,
        SecondaryPrivateIpAddressCount: ipCount,
        Description: `kube-iaas eni-operator: pod addresses of ${ctx.owner.name}`,
        TagSpecifications: toTagSpecifications('network-interface', tags),
      }),
    );
    calls++;
    const id = created.NetworkInterface?.NetworkInterfaceId;
    if (!id) throw new Error('CreateNetworkInterface returned no ID');
    const primary = created.NetworkInterface?.PrivateIpAddress;
    if (!ctx.emulatorQuirks) return { id, calls };
    const others = primary ? (await describeNetworkInterfaces(ec2, { filters: [{ Name: 'subnet-id', Values: [ctx.subnetId] }] })).filter((n) => n.id !== id) : [];
    if (!others.some((n) => n.privateIpAddresses.includes(primary ?? ''))) return { id, calls };
    if (attempt > PRIMARY_CLASH_RETRIES) {
      await deleteEni(ctx.clients, ctx.owner, { id, attachment: undefined }).catch(() => undefined);
      throw new Error(`CreateNetworkInterface gave ${PRIMARY_CLASH_RETRIES + 1} new ENIs a primary address another ENI in ${ctx.subnetId} holds (last: ${primary})`);
    }
    ctx.onRetried?.(`new ENI ${id} got primary address ${primary}, which another ENI in ${ctx.subnetId} holds; deleted and created again`);
    await deleteEni(ctx.clients, ctx.owner, { id, attachment: undefined });
    calls++;
  }
}

/**
 * Addresses may be added to and taken from an ENI only when it is the instance's primary or tagged for
 * this pool. The guard's own rule for these calls lets any owner change any ENI the cluster owns (an
 * address is an additive change); this check narrows it to the pool's own ENIs. Costs no call: the
 * guard has the ENI's tags from the describe the plan was made from.
 */
async function assertAddressesOurs(ctx: ApplyContext, actual: ActualPool, eniId: string, change: 'additive' | 'retract'): Promise<void> {
  if (actual.attached.some((n) => n.id === eniId && n.attachment?.deviceIndex === 0)) return;
  await ctx.clients.guard.checkNetworkInterface(eniId, change, { owner: ctx.owner, mustBeOurs: true });
}

/** Carries out a pool plan, one action at a time; stops at the first error (the next reconcile resumes). */
export function applyPoolPlan(ctx: ApplyContext, actual: ActualPool, actions: readonly PoolAction[]): Promise<number> {
  return ctx.clients.guard.asOwner(ctx.owner, () => applyActions(ctx, actual, actions));
}

async function applyActions(ctx: ApplyContext, actual: ActualPool, actions: readonly PoolAction[]): Promise<number> {
  const { ec2 } = ctx.clients;
  let calls = 0;
  for (const a of actions) {
    switch (a.op) {
      case 'createEni': {
        const { id, calls: made } = await createEni(ctx, a.deviceIndex, a.ipCount);
        calls += made;
        try {
          await attachEni(ctx, id, a.deviceIndex);
          calls += 2;
        } catch (e) {
          // Not attached: delete it now rather than leave it for the leak collector.
          await deleteEni(ctx.clients, ctx.owner, { id, attachment: undefined }).catch(() => undefined);
          throw e;
        }
        ctx.onApplied?.(a, `created ENI ${id} at device index ${a.deviceIndex} with ${a.ipCount} address(es)`);
        break;
      }
      case 'assignIps':
        await assertAddressesOurs(ctx, actual, a.eniId, 'additive');
        await ec2.send(new AssignPrivateIpAddressesCommand(a.ips ? { NetworkInterfaceId: a.eniId, PrivateIpAddresses: a.ips } : { NetworkInterfaceId: a.eniId, SecondaryPrivateIpAddressCount: a.count }));
        calls++;
        ctx.onApplied?.(a, a.ips ? `assigned ${a.ips.join(', ')} (held by pods) back to ${a.eniId}` : `assigned ${a.count} address(es) to ${a.eniId}`);
        break;
      case 'unassignIps':
        await assertAddressesOurs(ctx, actual, a.eniId, 'retract');
        await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: a.eniId, PrivateIpAddresses: a.ips }));
        calls++;
        ctx.onApplied?.(a, `released ${a.ips.length} address(es) of ${a.eniId}`);
        break;
      case 'deleteEni': {
        const eni = actual.attached.find((n) => n.id === a.eniId);
        await deleteEni(ctx.clients, ctx.owner, eni ?? { id: a.eniId, attachment: undefined });
        calls += 2;
        ctx.onApplied?.(a, `released ENI ${a.eniId}`);
        break;
      }
    }
  }
  return calls;
}

/**
 * Every ENI tagged for this pool (attached or not; name and UID, so not those of an earlier pool of the
 * same name), for deletion when the pool goes. Never another pool's, whatever instance it names.
 */
export function ownedEnis(clients: AwsClients, owner: OwnerRef): Promise<NetworkInterface[]> {
  return describeNetworkInterfaces(clients.ec2, { filters: ownedByOwnerFilters(clients.cluster, owner, { byUid: true }) });
}
