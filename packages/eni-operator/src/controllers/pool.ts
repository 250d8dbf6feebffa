// Stage 2, the AWS side: reconciles one EniPool (key = Node name) against the instance's ENIs —
// records what AWS holds in status (the inventory the allocator hands out from), grows the pool
// before it runs dry and shrinks it after the cooldown. It never hands out addresses itself and
// never blocks an allocation: addresses go into the record only once they exist in AWS, and out of
// it (with a write that fails if an allocation took one meanwhile) before they are given back.
//
// One pool per instance (plan/claim.ts): a pool that does not hold its instance gets a Conflict
// condition naming the holder and makes no AWS change; every change it makes as the holder runs in
// its owner scope of the ownership guard (aws/eni.ts).
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { EniPool, EniPoolEni, EniPoolStatus } from '@kube-iaas/crds';
import { AwsError, classifyAwsError, describeNetworkInterfaces, type AwsClients } from '@kube-iaas/core/aws';
import {
  ConditionType,
  addFinalizer,
  getCondition,
  hasFinalizer,
  removeCondition,
  isBeingDeleted,
  readyCondition,
  removeFinalizer,
  setConditions,
  syncedCondition,
  type Condition,
  type ConditionUpdate,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type ReconcileContext,
  type ReconcileResult,
} from '@kube-iaas/core/runtime';
import { OwnershipError, type OwnerRef } from '@kube-iaas/core/tags';
import { type InstanceTypeCatalog } from '@kube-iaas/core/instance-types';
import { CONFLICT_CONDITION, ENI_POOL_RESOURCE, FINALIZER } from '../constants.ts';
import { InstanceGoneError, applyPoolPlan, attachEni, deleteEni, foreignDuplicates, networkRefusal, ownedEnis, readActual, toPoolEni, type ActualPool, type ApplyContext, type NetworkAllowance } from '../aws/eni.ts';
import { awsReservedAddress, capacityOf, conflictMessage, decidedWithoutTags, dedupeEnis, nextDeviceIndex, planFromStatus, poolFailure, restorations, routeTableOf, withCounts, withReady, withoutAddresses, type PoolAction, type Removal } from '../plan/index.ts';
import { claimInput } from './claim.ts';
import { poolMetrics } from './metrics.ts';
import { podsWanting } from './pods.ts';
import type { PoolStore } from './store.ts';

export interface PoolControllerDeps {
  client: KubeClient;
  clients: AwsClients;
  catalog: InstanceTypeCatalog;
  store: PoolStore;
  pods: Informer<V1Pod>;
  /** Nodes and pools indexed by instance (`INSTANCE_INDEX`): who else names the pool's instance. */
  nodes: Informer<V1Node>;
  pools: Informer<EniPool>;
  /** Subnets and groups the operator's flags give pools (allowed untagged). */
  allowed?: NetworkAllowance;
  events: EventRecorder;
  /** Asks the allocator to look at the node's pods (new free addresses are recorded). */
  wakeAllocator: (name: string) => void;
  /** Pools with a change under way (this controller will look again by itself): waking them is redundant. */
  changing?: Set<string>;
  /** `--aws-emulator-quirks`: look for moto's repeated addresses across instances and on new ENIs' primaries. */
  emulatorQuirks?: boolean;
}

const typeOpt = { type: ENI_POOL_RESOURCE };
/** How often a pool in conflict looks again by itself (the holder's or a Node's change also wakes it). */
const CONFLICT_RECHECK_MS = 60_000;

export function poolReconciler(deps: PoolControllerDeps) {
  const { clients, store } = deps;
  const cidrs = new Map<string, string>();
  /** Growth refused by AWS (subnet full, a limit): not retried before this time unless the spec changes. */
  const blocked = new Map<string, { until: number; generation: number }>();

  async function fail(name: string, reason: string, message: string): Promise<void> {
    const pool = store.current(name);
    if (pool) deps.events.warning(pool, reason, message, typeOpt);
    await store.update(name, (p) => {
      const gen = p.metadata.generation ?? 0;
      const prev = getCondition(p.status?.conditions as Condition[] | undefined, ConditionType.Synced);
      if (prev?.status === 'False' && prev.reason === reason && prev.message === message) return undefined;
      const conditions = setConditions(removeCondition(p.status?.conditions as Condition[] | undefined, CONFLICT_CONDITION), [syncedCondition(false, reason, message, gen), ...(p.status?.enis?.length ? [] : [readyCondition(false, reason, message, gen)])]);
      return { status: { ...p.status, conditions }, result: undefined };
    });
  }

  /**
   * The pool does not hold its instance: Conflict=True naming the holder, Ready and Synced False, a
   * Warning Event when that is new. Nothing else of the status changes, and nothing in AWS.
   */
  async function conflict(name: string, holder: string, message: string): Promise<ReconcileResult> {
    deps.changing?.delete(name);
    const w = await store.update(name, (p) => {
      const gen = p.metadata.generation ?? 0;
      const prev = getCondition(p.status?.conditions as Condition[] | undefined, CONFLICT_CONDITION);
      if (prev?.status === 'True' && prev.message === message && prev.observedGeneration === gen) return undefined;
      const conditions = setConditions(p.status?.conditions as Condition[] | undefined, [
        { type: CONFLICT_CONDITION, status: true, reason: 'InstanceHeldByAnotherPool', message, observedGeneration: gen },
        syncedCondition(false, 'Conflict', message, gen),
        readyCondition(false, 'Conflict', `instance held by EniPool ${holder}`, gen),
      ]);
      return { status: { ...p.status, conditions }, result: undefined };
    });
    if (w.written && w.pool) deps.events.warning(w.pool, 'Conflict', message, typeOpt);
    return { requeueAfter: CONFLICT_RECHECK_MS };
  }

  /** Takes addresses out of the record, then gives back to AWS only what actually left it. */
  async function release(name: string, ctx: ApplyContext, actual: ActualPool, removals: readonly Removal[], wholeEnis: readonly string[], unlessHeld: boolean): Promise<number> {
    const w = await store.update(
      name,
      (p) => {
        const r = withoutAddresses(p.status ?? {}, removals, wholeEnis, unlessHeld);
        return r.removed.length || r.removedEnis.length ? { status: r.status, result: r } : undefined;
      },
      { leaving: (r) => r.left },
    );
    const done = w.result;
    if (!done) return 0;
    const actions: PoolAction[] = [
      ...done.removedEnis.map((eniId) => ({ op: 'deleteEni' as const, eniId })),
      ...done.removed.filter((r) => !done.removedEnis.includes(r.eniId)).map((r) => ({ op: 'unassignIps' as const, eniId: r.eniId, ips: r.ips })),
    ];
    // A whole ENI that was not in the record yet (never handed out from) goes too.
    for (const id of wholeEnis) if (!done.removedEnis.includes(id) && !(w.pool?.status?.enis ?? []).some((e) => e.eniId === id)) actions.push({ op: 'deleteEni', eniId: id });
    return applyPoolPlan(ctx, actual, actions);
  }

  async function cleanup(pool: EniPool, owner: OwnerRef, ctx: ReconcileContext): Promise<void> {
    const enis = await ownedEnis(clients, owner);
    for (const n of enis) {
      try {
        await deleteEni(clients, owner, n);
      } catch (e) {
        // An ENI still listed as attached to an instance that is gone cannot be detached (moto keeps
        // them; AWS detaches them at termination). It is left to the leaked-ENI sweep once it is
        // available, so a removed node's pool does not hang on it.
        const code = classifyAwsError(e).code;
        if (code !== 'OperationNotPermitted' && code !== 'IncorrectState') throw e;
        ctx.log.warn({ eni: n.id, code }, 'ENI of a removed pool cannot be detached; left to the leaked-ENI sweep');
      }
    }
    if (enis.length) ctx.log.info({ enis: enis.map((n) => n.id) }, 'ENIs of the pool deleted');
    await removeFinalizer(deps.client, ENI_POOL_RESOURCE, pool, FINALIZER);
    store.forget(pool.metadata.name ?? '');
  }

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    let pool = store.current(key);
    if (!pool?.metadata?.name || !pool.metadata.uid) return;
    const name = pool.metadata.name;
    const owner: OwnerRef = { kind: 'EniPool', name, uid: pool.metadata.uid };
    if (isBeingDeleted(pool)) {
      if (hasFinalizer(pool, FINALIZER)) await cleanup(pool, owner, ctx);
      return;
    }
    if (!hasFinalizer(pool, FINALIZER)) pool = await addFinalizer(deps.client, ENI_POOL_RESOURCE, pool, FINALIZER);
    const spec = pool.spec;

    let facts;
    try {
      facts = await deps.catalog.get(spec.instanceType);
    } catch (e) {
      const c = classifyAwsError(e);
      if (c.kind !== 'terminal') throw e;
      await fail(name, 'UnknownInstanceType', `spec.instanceType: ${c.message}`);
      return;
    }
    const capacity = capacityOf(facts, spec.maxPodAddresses);

    // One pool per instance. Mostly decided from the caches alone (a Node has the instance, or no other
    // pool names it); between pools of an instance no Node has, the owner tags on its ENIs decide.
    const claim = claimInput(deps.nodes, deps.pools, spec.instanceId, clients.cluster);
    const byCaches = decidedWithoutTags(claim);
    if (byCaches) {
      const c = conflictMessage(name, claim);
      if (c) return conflict(name, c.holder, c.message);
    }

    let actual: ActualPool;
    try {
      actual = await readActual(clients, spec.instanceId, owner, cidrs);
    } catch (e) {
      if (e instanceof InstanceGoneError) {
        await fail(name, 'InstanceNotFound', `spec.instanceId: ${e.message}`);
        return { requeueAfter: 60_000 };
      }
      throw e;
    }
    if (!byCaches) {
      const c = conflictMessage(name, claimInput(deps.nodes, deps.pools, spec.instanceId, clients.cluster, [...actual.attached, ...actual.foreign]));
      if (c) return conflict(name, c.holder, c.message);
    }
    const reserved = actual.foreign.flatMap((n) => n.attachment?.deviceIndex ?? []);
    const primary = actual.attached.find((n) => n.attachment?.deviceIndex === 0);
    const subnetId = spec.subnetId ?? primary?.subnetId ?? actual.instance.subnetId;
    const securityGroupIds = spec.securityGroupIds ?? primary?.securityGroupIds ?? actual.instance.securityGroupIds;
    if (!subnetId || securityGroupIds.length === 0) {
      await fail(name, 'NoSubnet', 'neither spec.subnetId nor the primary ENI names a subnet and security groups');
      return;
    }
    const refused = await networkRefusal(clients, spec, primary, deps.allowed ?? { subnetIds: [], securityGroupIds: [] });
    if (refused) {
      await fail(name, 'NetworkNotAllowed', refused);
      return { requeueAfter: 60_000 };
    }
    const applyCtx: ApplyContext = {
      clients,
      owner,
      instanceId: spec.instanceId,
      subnetId,
      securityGroupIds,
      onApplied: (_a, detail) => deps.events.normal(store.current(name) ?? pool, 'PoolChanged', detail, typeOpt),
      onRetried: (detail) => ctx.log.warn({ detail }, 'AWS step undone and retried'),
      emulatorQuirks: deps.emulatorQuirks ?? false,
    };

    try {
      // ENIs of ours left detached (a crash between create and attach): attach them, or delete them at the limit.
      if (actual.detached.length > 0) {
        const taken = [...actual.attached.map((x) => x.attachment?.deviceIndex ?? 0), ...reserved];
        for (const n of actual.detached) {
          const idx = nextDeviceIndex(taken, capacity.maxEnis);
          if (idx === undefined) {
            await deleteEni(clients, owner, n);
            deps.events.normal(pool, 'PoolChanged', `deleted detached ENI ${n.id} (the instance is at its ENI limit)`, typeOpt);
          } else {
            await attachEni(applyCtx, n.id, idx);
            taken.push(idx);
            deps.events.normal(pool, 'PoolChanged', `attached ENI ${n.id} found detached at device index ${idx}`, typeOpt);
          }
        }
        return { requeueAfter: 1 };
      }
      // moto repeats addresses (see README): a copy on a second ENI of this instance is released.
      const awsKept = new Set(actual.attached.flatMap((n) => n.privateIpAddresses.filter((ip) => ip !== n.primaryPrivateIpAddress && awsReservedAddress(ip, actual.subnetCidrs.get(n.subnetId) ?? '0.0.0.0/32'))));
      const deduped = dedupeEnis(actual.attached.map(toPoolEni), actual.attached.flatMap((n) => n.primaryPrivateIpAddress ?? []), awsKept);
      if (deduped.duplicates.length > 0) {
        ctx.log.warn({ duplicates: deduped.duplicates }, 'an address is assigned to two ENIs; releasing the copies');
        await store.update(
          name,
          (p) => {
            const r = withoutAddresses(p.status ?? {}, deduped.duplicates, [], false);
            return { status: r.status, result: r };
          },
          { leaving: (r) => r.left },
        );
        await applyPoolPlan(applyCtx, actual, deduped.duplicates.map((d) => ({ op: 'unassignIps' as const, eniId: d.eniId, ips: d.ips })));
        return { requeueAfter: 1 };
      }
      const current = store.current(name) ?? pool;
      const recorded = new Set((current.status?.enis ?? []).flatMap((e) => e.secondaryIps ?? []));
      const fresh = new Set(deduped.enis.flatMap((e) => e.secondaryIps).filter((ip) => !recorded.has(ip)));
      // moto only (AWS never repeats an address, so there this would be one wasted describe per new
      // address batch). Only addresses not recorded yet are checked: a recorded one passed when recorded.
      if (deps.emulatorQuirks && fresh.size > 0) {
        const allocated = new Set((current.status?.allocations ?? []).map((a) => a.ip));
        const foreign = await foreignDuplicates(clients, deduped.enis, [...new Set(actual.attached.map((n) => n.subnetId))], fresh, allocated);
        if (foreign.length > 0) {
          ctx.log.warn({ duplicates: foreign }, 'an address is also held by an ENI of another instance; releasing our copy');
          await release(name, applyCtx, actual, foreign, [], true);
          return { requeueAfter: 1 };
        }
      }

      // Addresses pods hold that the pool's ENIs no longer list (changed outside the operator): assigned
      // back, unless another ENI holds them now. One describe of the subnets, only when there are such.
      const onOurs = new Set(actual.attached.flatMap((n) => n.privateIpAddresses));
      const lost = (current.status?.allocations ?? []).filter((a) => !onOurs.has(a.ip));
      if (lost.length > 0) {
        const subnets = [...new Set(actual.attached.map((n) => n.subnetId))];
        const listed = new Set((await describeNetworkInterfaces(clients.ec2, { filters: [{ Name: 'subnet-id', Values: subnets }] })).flatMap((n) => n.privateIpAddresses));
        const subnetOf = new Map(actual.attached.map((n) => [n.id, n.subnetId]));
        const back = restorations(lost, deduped.enis.map((e) => ({ ...e, subnetCidr: actual.subnetCidrs.get(subnetOf.get(e.eniId) ?? '') })), listed, capacity.ipsPerEni - 1);
        if (back.length > 0) {
          ctx.log.warn({ restore: back }, 'addresses pods hold are gone from the pool\'s ENIs; assigning them back');
          await applyPoolPlan(applyCtx, actual, back);
          for (const a of back) poolMetrics.actions.inc({ op: a.op });
          return { requeueAfter: 1 };
        }
      }

      // Record the inventory AWS holds, with the newest allocations.
      const inventory = inventoryOf(actual, new Set(deduped.enis.flatMap((e) => e.secondaryIps)), deduped.enis);
      const w = await store.update(name, (p) => {
        const st = p.status ?? {};
        const ipOwner = new Map(inventory.flatMap((e) => (e.secondaryIps ?? []).map((ip) => [ip, e] as const)));
        const allocations = (st.allocations ?? []).map((a) => {
          const e = ipOwner.get(a.ip);
          return e && e.eniId !== a.eniId ? { ...a, eniId: e.eniId, deviceIndex: e.deviceIndex, routeTable: routeTableOf(e.deviceIndex) } : a;
        });
        const cooling = (st.cooling ?? []).filter((c) => ipOwner.has(c.ip));
        const gen = p.metadata.generation ?? 0;
        const counted = withCounts({
          ...st,
          observedGeneration: gen,
          capacity: { maxEnis: capacity.maxEnis, ipsPerEni: capacity.ipsPerEni, podAddresses: capacity.podAddresses, maxPods: capacity.maxPods },
          enis: inventory,
          allocations,
          cooling,
        });
        const waiting = podsWanting(deps.pods, name, allocations).length;
        const plan = planFromStatus(p.spec, counted, waiting, capacity, reserved);
        const ready = withReady(counted, { waiting, atLimit: plan.atLimit, limit: capacity.limit, generation: gen });
        // The schema cannot know the instance type's capacity: a minimumIp above it is held at the limit and said so.
        const over = (p.spec.minimumIp ?? 0) > capacity.limit;
        const targets: ConditionUpdate = {
          type: 'TargetsValid',
          status: over ? 'False' : 'True',
          reason: over ? 'MinimumAboveCapacity' : 'TargetsValid',
          message: over ? `spec.minimumIp ${p.spec.minimumIp} is above the ${capacity.limit} pod addresses this ${p.spec.instanceType} allows; the pool holds ${capacity.limit}` : '',
          observedGeneration: gen,
        };
        const status: EniPoolStatus = {
          ...ready,
          conditions: setConditions(removeCondition(ready.conditions as Condition[] | undefined, CONFLICT_CONDITION), [syncedCondition(true, 'Reconciled', plan.actions.length ? 'pool changing' : 'in sync', gen), targets]),
        };
        return { status, result: { plan, waiting } };
      });
      const recordedNow = w.pool ?? current;
      if ((spec.minimumIp ?? 0) > capacity.limit) {
        deps.events.warning(recordedNow, 'MinimumAboveCapacity', `spec.minimumIp ${spec.minimumIp} is above the ${capacity.limit} pod addresses this ${spec.instanceType} allows; the pool holds ${capacity.limit}`, typeOpt);
      }
      const st = recordedNow.status ?? {};
      if ((st.summary?.free ?? 0) > 0 && podsWanting(deps.pods, name, st.allocations ?? []).length > 0) deps.wakeAllocator(name);
      if ((st.cooling?.length ?? 0) > 0 || w.written) deps.wakeAllocator(name);
      poolMetrics.enis.set({ node: name }, inventory.length);

      const plan = planFromStatus(recordedNow.spec, st, podsWanting(deps.pods, name, st.allocations ?? []).length, capacity, reserved);
      if (plan.actions.length === 0) {
        deps.changing?.delete(name);
        return;
      }
      deps.changing?.add(name);
      const growth = plan.actions.filter((a) => a.op === 'createEni' || a.op === 'assignIps');
      let calls: number;
      if (growth.length > 0) {
        const b = blocked.get(name);
        const gen = recordedNow.metadata.generation ?? 0;
        if (b && b.generation === gen && Date.now() < b.until) return { requeueAfter: b.until - Date.now() };
        blocked.delete(name);
        try {
          calls = await applyPoolPlan(applyCtx, actual, growth);
        } catch (e) {
          if (e instanceof AwsError && e.kind === 'terminal') blocked.set(name, { until: Date.now() + (poolFailure(e).requeueAfterMs ?? 60_000), generation: gen });
          throw e;
        }
      } else {
        const removals = plan.actions.flatMap((a) => (a.op === 'unassignIps' ? [{ eniId: a.eniId, ips: a.ips }] : []));
        const whole = plan.actions.flatMap((a) => (a.op === 'deleteEni' ? [a.eniId] : []));
        calls = await release(name, applyCtx, actual, removals, whole, true);
      }
      ctx.log.info({ calls, actions: plan.actions, desired: plan.desired, total: plan.total }, 'pool changed');
      for (const a of plan.actions) poolMetrics.actions.inc({ op: a.op });
      return { requeueAfter: 1 };
    } catch (e) {
      if (e instanceof OwnershipError) {
        // The guard refused (an ENI or instance not tagged for this pool or this cluster): no call was made.
        deps.changing?.delete(name);
        await fail(name, 'OwnershipRefused', e.message).catch(() => undefined);
        return { requeueAfter: 60_000 };
      }
      // AWS refused (Kubernetes API errors go to the queue's backoff as they are).
      if (!(e instanceof AwsError) || e.kind === 'not-found') throw e;
      const c = classifyAwsError(e);
      const f = poolFailure(c);
      deps.changing?.delete(name);
      await fail(name, f.reason, `${c.code}: ${c.message}`).catch(() => undefined);
      deps.wakeAllocator(name); // waiting pods learn why
      if (f.requeueAfterMs !== undefined) return { requeueAfter: f.requeueAfterMs };
      throw e;
    }
  };
}

/** The ENIs as status records them: attached ENIs by device index, each with its (deduplicated) addresses. */
function inventoryOf(actual: ActualPool, keep: ReadonlySet<string>, deduped: readonly { eniId: string; secondaryIps: readonly string[] }[]): EniPoolEni[] {
  const ips = new Map(deduped.map((e) => [e.eniId, e.secondaryIps]));
  return actual.attached
    .slice()
    .sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0))
    .map((n) => {
      const e = toPoolEni(n);
      const out: EniPoolEni = { eniId: n.id, deviceIndex: e.deviceIndex, subnetId: n.subnetId, secondaryIps: [...(ips.get(n.id) ?? e.secondaryIps)].filter((ip) => keep.has(ip)) };
      if (n.attachment?.id) out.attachmentId = n.attachment.id;
      const cidr = actual.subnetCidrs.get(n.subnetId);
      if (cidr) out.subnetCidr = cidr;
      if (n.macAddress) out.macAddress = n.macAddress;
      if (n.primaryPrivateIpAddress) out.primaryIp = n.primaryPrivateIpAddress;
      return out;
    });
}
