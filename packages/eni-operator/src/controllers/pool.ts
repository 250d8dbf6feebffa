// Stage 2: reconciles one EniPool (key = Node name) — releases addresses of pods that are gone,
// hands free addresses to the node's pods that wait (status first, with optimistic concurrency, then
// the pod annotation), and keeps the pool between its warm targets in AWS. Status is the record of who
// holds what; the API server's resourceVersion check makes sure two writers never hand out one address.
import type { V1Pod } from '@kubernetes/client-node';
import type { EniPool, EniPoolAllocation, EniPoolEni, EniPoolStatus } from '@kube-iaas/crds';
import {
  ConditionType,
  addFinalizer,
  classifyAwsError,
  getCondition,
  hasFinalizer,
  isBeingDeleted,
  isKubeNotFound,
  readyCondition,
  removeFinalizer,
  resources,
  setConditions,
  syncedCondition,
  type AwsClients,
  type Condition,
  type EventRecorder,
  type Informer,
  type InstanceTypeCatalog,
  type KubeClient,
  type OwnerRef,
  type ReconcileContext,
  type ReconcileResult,
  type StatusWriter,
} from '@kube-iaas/core';
import { DEVICE_INDEX_ANNOTATION, ENI_ANNOTATION, ENI_POOL_RESOURCE, FINALIZER, IP_ANNOTATION, ROUTE_TABLE_ANNOTATION } from '../constants.ts';
import { InstanceGoneError, applyPoolPlan, attachEni, deleteEni, foreignDuplicates, ownedEnis, readActual, toPoolEni, type ActualPool } from '../aws/eni.ts';
import { allocate, capacityOf, dedupeEnis, expireCooling, nextDeviceIndex, planPool, release, routeTableOf, type PodRef } from '../plan/index.ts';
import { poolMetrics } from './metrics.ts';

export const POD_NODE_INDEX = 'nodeName';

export interface PoolControllerDeps {
  client: KubeClient;
  clients: AwsClients;
  catalog: InstanceTypeCatalog;
  pools: Informer<EniPool>;
  pods: Informer<V1Pod>;
  events: EventRecorder;
  statusWriter: StatusWriter;
  now?: () => Date;
}

const typeOpt = { type: ENI_POOL_RESOURCE };

/** A pod that holds (or should hold) a pool address: bound, not host-network, not finished. */
export function wantsAddress(p: V1Pod): boolean {
  return !!p.spec?.nodeName && !p.spec.hostNetwork && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

const rv = (o: { metadata?: { resourceVersion?: string } } | undefined) => Number(o?.metadata?.resourceVersion ?? 0);

export function poolReconciler(deps: PoolControllerDeps) {
  const { clients } = deps;
  const now = deps.now ?? (() => new Date());
  /** The newest copy we wrote, so a reconcile right after our own write does not read a stale cache. */
  const latest = new Map<string, EniPool>();

  const current = (name: string): EniPool | undefined => {
    const cached = deps.pools.get(name);
    const mine = latest.get(name);
    if (!cached) return undefined;
    if (mine && mine.metadata.uid === cached.metadata.uid && rv(mine) > rv(cached)) return { ...cached, status: mine.status, metadata: { ...cached.metadata, resourceVersion: mine.metadata.resourceVersion } };
    return cached;
  };

  async function writeStatus(pool: EniPool, status: EniPoolStatus): Promise<EniPool> {
    const r = await deps.statusWriter.replace(ENI_POOL_RESOURCE, pool, status, { optimistic: true });
    if (r.written) latest.set(pool.metadata.name ?? '', r.object);
    return r.written ? r.object : pool;
  }

  async function fail(pool: EniPool, reason: string, message: string): Promise<void> {
    deps.events.warning(pool, reason, message, typeOpt);
    const gen = pool.metadata.generation ?? 0;
    const prev = getCondition(pool.status?.conditions, ConditionType.Synced);
    if (prev?.status === 'False' && prev.reason === reason && prev.message === message) return;
    const conditions = setConditions(pool.status?.conditions as Condition[] | undefined, [syncedCondition(false, reason, message, gen), ...(pool.status?.enis?.length ? [] : [readyCondition(false, reason, message, gen)])]);
    await deps.statusWriter.merge(ENI_POOL_RESOURCE, pool, { conditions });
  }

  async function cleanup(pool: EniPool, owner: OwnerRef, ctx: ReconcileContext): Promise<void> {
    const enis = await ownedEnis(clients, owner);
    for (const n of enis) await deleteEni(clients, n);
    if (enis.length) ctx.log.info({ enis: enis.map((n) => n.id) }, 'ENIs of the pool deleted');
    await removeFinalizer(deps.client, ENI_POOL_RESOURCE, pool, FINALIZER);
    latest.delete(pool.metadata.name ?? '');
  }

  async function annotate(a: EniPoolAllocation, pod: V1Pod): Promise<void> {
    const want: Record<string, string> = {
      [IP_ANNOTATION]: a.ip,
      [ENI_ANNOTATION]: a.eniId,
      [DEVICE_INDEX_ANNOTATION]: String(a.deviceIndex ?? ''),
      [ROUTE_TABLE_ANNOTATION]: String(a.routeTable ?? ''),
    };
    const have = pod.metadata?.annotations ?? {};
    if (Object.entries(want).every(([k, v]) => have[k] === v)) return;
    try {
      // The uid precondition keeps a recreated pod of the same name from taking this address.
      await deps.client.patch(resources.Pod, { name: a.podName, namespace: a.podNamespace }, { metadata: { uid: a.podUid, annotations: want } });
      poolMetrics.allocationLatency.observe(Math.max(0, (Date.now() - Date.parse(a.allocatedAt ?? '')) / 1000) || 0);
    } catch (e) {
      // Gone, or replaced by a pod of the same name (uid precondition): the next reconcile releases the address.
      const code = (e as { code?: number }).code;
      if (!isKubeNotFound(e) && code !== 409 && code !== 422) throw e;
    }
  }

  /** Pods on the node that should get an address and hold none in `allocations`, oldest first. */
  function podsWanting(name: string, allocations: readonly EniPoolAllocation[]): PodRef[] {
    const holders = new Set(allocations.map((a) => a.podUid));
    return deps.pods
      .byIndex(POD_NODE_INDEX, name)
      .filter((p) => wantsAddress(p) && !p.metadata?.deletionTimestamp && !holders.has(p.metadata?.uid ?? ''))
      .sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
      .map((p) => ({ namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' }));
  }

  /**
   * Fast path: pods wait and the pool recorded in status has free addresses — hand them out from
   * status alone (no AWS call), with the same optimistic write; the full reconcile follows.
   */
  async function fastAllocate(pool: EniPool, name: string): Promise<boolean> {
    const st = pool.status;
    if (!st?.enis?.length) return false;
    const allocations = st.allocations ?? [];
    const wanting = podsWanting(name, allocations);
    if (wanting.length === 0) return false;
    const t = now();
    const cool = expireCooling(st.cooling ?? [], (pool.spec.cooldownSeconds ?? 30) * 1000, t);
    const enis = st.enis.map((e) => ({ eniId: e.eniId, deviceIndex: e.deviceIndex, secondaryIps: e.secondaryIps ?? [] }));
    const { granted } = allocate(enis, allocations, cool.cooling, wanting, t);
    if (granted.length === 0) return false;
    const all = [...allocations, ...granted];
    const used = new Set(all.map((a) => a.ip));
    const cooling = new Set(cool.cooling.map((c) => c.ip));
    const status: EniPoolStatus = {
      ...st,
      allocations: all,
      cooling: cool.cooling,
      enis: st.enis.map((e) => {
        const u = (e.secondaryIps ?? []).filter((ip) => used.has(ip)).length;
        const c = (e.secondaryIps ?? []).filter((ip) => cooling.has(ip)).length;
        return { ...e, used: u, free: (e.secondaryIps ?? []).length - u - c };
      }),
    };
    const addresses = st.enis.reduce((n, e) => n + (e.secondaryIps?.length ?? 0), 0);
    status.summary = { ...st.summary, used: used.size, cooling: cooling.size, free: addresses - used.size - cooling.size };
    await writeStatus(pool, status);
    for (const a of granted) {
      const p = deps.pods.get(`${a.podNamespace}/${a.podName}`);
      if (p) await annotate(a, p);
    }
    return true;
  }

  /** Drops released addresses from the recorded ENIs, so the fast path never hands them out. */
  async function forgetIps(pool: EniPool, removed: readonly { eniId: string; ips: string[] }[]): Promise<void> {
    if (!pool.status?.enis) return;
    const gone = new Map(removed.map((r) => [r.eniId, new Set(r.ips)]));
    const enis = pool.status.enis.map((e) => (gone.has(e.eniId) ? { ...e, secondaryIps: (e.secondaryIps ?? []).filter((ip) => !gone.get(e.eniId)?.has(ip)) } : e));
    await writeStatus(pool, { ...pool.status, enis });
  }

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    let pool = current(key);
    if (!pool?.metadata?.name || !pool.metadata.uid) return;
    const name = pool.metadata.name;
    const owner: OwnerRef = { kind: 'EniPool', name, uid: pool.metadata.uid };
    if (isBeingDeleted(pool)) {
      if (hasFinalizer(pool, FINALIZER)) await cleanup(pool, owner, ctx);
      return;
    }
    if (!hasFinalizer(pool, FINALIZER)) pool = await addFinalizer(deps.client, ENI_POOL_RESOURCE, pool, FINALIZER);
    const spec = pool.spec;
    const gen = pool.metadata.generation ?? 0;
    // The full reconcile (AWS read, pool planning) follows a second later, unless more pods come first.
    if (await fastAllocate(pool, name)) return { requeueAfter: 1_000 };
    pool = current(key) ?? pool;

    let facts;
    try {
      facts = await deps.catalog.get(spec.instanceType);
    } catch (e) {
      const c = classifyAwsError(e);
      if (c.kind !== 'terminal') throw e;
      await fail(pool, 'UnknownInstanceType', `spec.instanceType: ${c.message}`);
      return;
    }
    const capacity = capacityOf(facts, spec.maxPodAddresses);

    let actual: ActualPool;
    try {
      actual = await readActual(clients, spec.instanceId, owner);
    } catch (e) {
      if (e instanceof InstanceGoneError) {
        await fail(pool, 'InstanceNotFound', `spec.instanceId: ${e.message}`);
        return { requeueAfter: 60_000 };
      }
      throw e;
    }
    const primary = actual.attached.find((n) => n.attachment?.deviceIndex === 0);
    const subnetId = spec.subnetId ?? primary?.subnetId ?? actual.instance.subnetId;
    const securityGroupIds = spec.securityGroupIds ?? primary?.securityGroupIds ?? actual.instance.securityGroupIds;
    if (!subnetId || securityGroupIds.length === 0) {
      await fail(pool, 'NoSubnet', 'neither spec.subnetId nor the primary ENI names a subnet and security groups');
      return;
    }
    const applyCtx = {
      clients,
      owner,
      instanceId: spec.instanceId,
      subnetId,
      securityGroupIds,
      onApplied: (_a: unknown, detail: string) => deps.events.normal(pool ?? ({} as EniPool), 'PoolChanged', detail, typeOpt),
    };
    // ENIs of ours left detached (a crash between create and attach): attach them, or delete them at the limit.
    if (actual.detached.length > 0) {
      for (const n of actual.detached) {
        const idx = nextDeviceIndex(actual.attached.map((x) => x.attachment?.deviceIndex ?? 0), capacity.maxEnis);
        if (idx === undefined) await deleteEni(clients, n);
        else await attachEni(applyCtx, n.id, idx);
      }
      return { requeueAfter: 100 };
    }
    const deduped = dedupeEnis(actual.attached.map(toPoolEni));
    if (deduped.duplicates.length > 0) {
      ctx.log.warn({ duplicates: deduped.duplicates }, 'an address is assigned to two ENIs; releasing the copies');
      await forgetIps(pool, deduped.duplicates);
      await applyPoolPlan(applyCtx, actual, deduped.duplicates.map((d) => ({ op: 'unassignIps' as const, eniId: d.eniId, ips: d.ips })));
      return { requeueAfter: 50 };
    }
    const recorded = new Set((pool.status?.enis ?? []).flatMap((e) => e.secondaryIps ?? []));
    const fresh = new Set(deduped.enis.flatMap((e) => e.secondaryIps).filter((ip) => !recorded.has(ip)));
    const allocatedIps = new Set((pool.status?.allocations ?? []).map((a) => a.ip));
    const allocatedUids = new Set((pool.status?.allocations ?? []).map((a) => a.podUid));
    const someoneWaits = deps.pods.byIndex(POD_NODE_INDEX, name).some((p) => wantsAddress(p) && !allocatedUids.has(p.metadata?.uid ?? ''));
    const foreign = fresh.size > 0 || someoneWaits ? await foreignDuplicates(clients, deduped.enis, [...new Set(actual.attached.map((n) => n.subnetId))], fresh, allocatedIps) : [];
    if (foreign.length > 0) {
      ctx.log.warn({ duplicates: foreign }, 'an address is also held by an ENI of another instance; releasing our copy');
      await forgetIps(pool, foreign);
      await applyPoolPlan(applyCtx, actual, foreign.map((d) => ({ op: 'unassignIps' as const, eniId: d.eniId, ips: d.ips })));
      return { requeueAfter: 50 };
    }
    const enis = deduped.enis;
    const inPool = new Set(enis.flatMap((e) => e.secondaryIps));

    // Allocations: release what ended, cool down, hand out.
    const t = now();
    const podsHere = deps.pods.byIndex(POD_NODE_INDEX, name);
    const byUid = new Map(podsHere.map((p) => [p.metadata?.uid ?? '', p]));
    // A pod missing from this replica's cache may only be newer than the cache (another replica
    // allocated for it): ask the API server before an address is released.
    const confirmedGone = new Set<string>();
    for (const a of pool.status?.allocations ?? []) {
      if (byUid.has(a.podUid)) continue;
      const live = await deps.client.get<V1Pod>(resources.Pod, a.podName, a.podNamespace);
      if (live?.metadata?.uid === a.podUid && live.spec?.nodeName === name) byUid.set(a.podUid, live);
      else confirmedGone.add(a.podUid);
    }
    const { kept, released } = release(pool.status?.allocations ?? [], (a) => {
      const p = byUid.get(a.podUid);
      return !!p && wantsAddress(p);
    }, t);
    // Keep each allocation's ENI fields in step with the ENI that holds the address now.
    const ipOwner = new Map(enis.flatMap((e) => e.secondaryIps.map((ip) => [ip, e] as const)));
    for (let i = 0; i < kept.length; i++) {
      const a = kept[i]!;
      const e = ipOwner.get(a.ip);
      if (e && e.eniId !== a.eniId) kept[i] = { ...a, eniId: e.eniId, deviceIndex: e.deviceIndex, routeTable: routeTableOf(e.deviceIndex) };
    }
    const cooldownMs = (spec.cooldownSeconds ?? 30) * 1000;
    const cool = expireCooling([...(pool.status?.cooling ?? []), ...released].filter((c) => inPool.has(c.ip)), cooldownMs, t);
    const wanting = podsWanting(name, kept);
    const { granted, waiting } = allocate(enis, kept, cool.cooling, wanting, t);
    const allocations = [...kept, ...granted];
    const used = new Set(allocations.map((a) => a.ip));
    const coolingSet = new Set(cool.cooling.map((c) => c.ip));

    const plan = planPool({
      enis,
      used,
      cooling: coolingSet,
      waiting: waiting.length,
      capacity,
      targets: { warmEni: spec.warmEni ?? 1, warmIp: spec.warmIp, minimumIp: spec.minimumIp, shrinkPolicy: spec.shrinkPolicy ?? 'Release' },
    });

    const statusEnis: EniPoolEni[] = actual.attached
      .slice()
      .sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0))
      .map((n) => {
        const e = toPoolEni(n);
        const u = e.secondaryIps.filter((ip) => used.has(ip)).length;
        const c = e.secondaryIps.filter((ip) => coolingSet.has(ip)).length;
        const out: EniPoolEni = { eniId: n.id, deviceIndex: e.deviceIndex, subnetId: n.subnetId, secondaryIps: [...e.secondaryIps], used: u, free: e.secondaryIps.length - u - c };
        if (n.attachment?.id) out.attachmentId = n.attachment.id;
        const cidr = actual.subnetCidrs.get(n.subnetId);
        if (cidr) out.subnetCidr = cidr;
        if (n.macAddress) out.macAddress = n.macAddress;
        if (n.primaryPrivateIpAddress) out.primaryIp = n.primaryPrivateIpAddress;
        return out;
      });
    const total = inPool.size;
    const free = total - used.size - coolingSet.size;
    const ready = waiting.length === 0 && plan.actions.length === 0;
    const message = `${used.size}/${capacity.podAddresses} addresses used, ${free} free, ${coolingSet.size} cooling on ${enis.length} ENI(s)${waiting.length ? `; ${waiting.length} pod(s) waiting` : ''}`;
    const prevConds = pool.status?.conditions as Condition[] | undefined;
    const status: EniPoolStatus = {
      observedGeneration: gen,
      capacity: { maxEnis: capacity.maxEnis, ipsPerEni: capacity.ipsPerEni, podAddresses: capacity.podAddresses, maxPods: capacity.maxPods },
      summary: { enis: enis.length, addresses: total, used: used.size, free, cooling: coolingSet.size },
      enis: statusEnis,
      allocations,
      cooling: cool.cooling,
      conditions: setConditions(prevConds, [
        readyCondition(waiting.length === 0, waiting.length === 0 ? 'PoolReady' : plan.atLimit ? 'AddressLimitReached' : 'PoolGrowing', message, gen),
        syncedCondition(true, 'Reconciled', ready ? 'in sync' : 'pool changing', gen),
      ]),
    };
    pool = await writeStatus(pool, status);
    for (const a of allocations) {
      const p = byUid.get(a.podUid);
      if (p) await annotate(a, p);
    }
    if (granted.length) ctx.log.info({ granted: granted.map((g) => `${g.podNamespace}/${g.podName}=${g.ip}`) }, 'addresses handed out');
    poolMetrics.addresses.set({ node: name, state: 'used' }, used.size);
    poolMetrics.addresses.set({ node: name, state: 'free' }, free);
    poolMetrics.addresses.set({ node: name, state: 'cooling' }, coolingSet.size);
    poolMetrics.enis.set({ node: name }, enis.length);
    if (waiting.length > 0 && (plan.atLimit || plan.actions.length === 0)) {
      for (const w of waiting) {
        deps.events.warning(
          { apiVersion: 'v1', kind: 'Pod', metadata: { name: w.name, namespace: w.namespace, uid: w.uid } },
          'NoAddressAvailable',
          `node ${name} is out of pod addresses (${used.size}/${capacity.limit} in use, the ${spec.instanceType} limit is ${capacity.podAddresses}); the pod gets one as soon as an address is free`,
          { type: resources.Pod },
        );
      }
      poolMetrics.waiting.set({ node: name }, waiting.length);
    } else poolMetrics.waiting.set({ node: name }, waiting.length);

    if (plan.actions.length > 0) {
      try {
        const calls = await applyPoolPlan({ ...applyCtx, onApplied: (_a, d) => deps.events.normal(pool ?? ({} as EniPool), 'PoolChanged', d, typeOpt) }, actual, plan.actions);
        ctx.log.info({ calls, actions: plan.actions, desired: plan.desired, total: plan.total }, 'pool changed');
        for (const a of plan.actions) poolMetrics.actions.inc({ op: a.op });
      } catch (e) {
        const c = classifyAwsError(e);
        const reason = c.code === 'InsufficientFreeAddressesInSubnet' ? 'SubnetFull' : c.code.endsWith('LimitExceeded') ? 'EniLimitReached' : c.kind === 'throttled' ? 'AwsThrottled' : 'AwsError';
        await fail(pool, reason, `${c.code}: ${c.message}`).catch(() => undefined);
        if (c.kind === 'terminal') return { requeueAfter: 60_000 };
        throw e;
      }
      return { requeueAfter: 50 };
    }
    if (cool.nextExpiryMs !== undefined) return { requeueAfter: cool.nextExpiryMs + 50 };
    return;
  };
}
