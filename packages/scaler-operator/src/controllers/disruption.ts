import { KubeApiError, isKubeNotFound, pollUntil, rfc3339 } from '@kube-iaas/core/runtime';
import { Reasons, SCALE_DOWN_DISABLED_ANNOTATION, TO_BE_DELETED_TAINT } from '../constants.ts';
import { instanceIdFromProviderId } from '../aws/groups.ts';
import type { V1Node as Node, V1Pod as Pod } from '@kubernetes/client-node';
import { isReady } from '../plan/node.ts';
import { podKey } from '../plan/pod.ts';
import { planScaleDown, type NodeRemoval, type ScaleDownGroup } from '../plan/scale-down.ts';
import { toResources } from '../quantity.ts';
import { scalerMetrics } from '../metrics.ts';
import { NODE_GROUP_TYPE, NODE_TYPE, specOr, type GroupView, type RunContext } from './state.ts';

const NODE_RESOURCE = { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false } as const;

interface Drain {
  node: string;
  group: string;
  instanceId: string;
  started: number;
  done: Promise<void>;
}

/**
 * The disruption loop: feeds the pure `planScaleDown` from the caches and performs its removals —
 * taint + cordon, evictions through the Eviction API (PDBs), then the provider terminates the
 * instance. Drains go on in the background between runs.
 */
export class Disrupter {
  readonly #ctx: RunContext;
  #unneededSince = new Map<string, number>();
  readonly #drains = new Map<string, Drain>();

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
  }

  scaleDown(groups: GroupView[]): void {
    const { d, cluster, memory } = this.#ctx;
    const s = d.settings;
    const byName = new Map(groups.map((v) => [v.name, v]));
    const planGroups: ScaleDownGroup[] = groups.map((v) => {
      const enabled = !!v.asg && !v.problem && v.ng.spec.scaleDown?.enabled !== false;
      // a disabled group's nodes are not looked at (nor their pods read)
      const nodes = !enabled
        ? []
        : v.registered.map((n) => {
            const name = n.metadata?.name ?? '';
            return {
              name,
              ready: isReady(n),
              scaleDownDisabled: n.metadata?.annotations?.[SCALE_DOWN_DISABLED_ANNOTATION] === 'true',
              allocatable: toResources(n.status?.allocatable),
              pods: cluster.podsOn(name),
            };
          });
      return {
        name: v.name,
        enabled,
        desired: v.desired,
        min: v.min,
        threshold: specOr(v.ng.spec.scaleDown?.utilizationThreshold, 0.5, s.utilizationThreshold),
        unneededMs: specOr(v.ng.spec.scaleDown?.unneededSeconds, 600, s.unneededMs / 1000) * 1000,
        nodes,
      };
    });
    const plan = planScaleDown({
      now: this.#ctx.now(),
      groups: planGroups,
      unneededSince: this.#unneededSince,
      draining: new Map([...this.#drains.values()].map((x) => [x.node, x.group])),
      lastScaleUpAt: memory.lastScaleUpAny,
      delayAfterAddMs: s.delayAfterAddMs,
      anyUpcoming: groups.some((v) => v.upcoming > 0),
      maxEmptyBulkDelete: s.maxEmptyBulkDelete,
      schedulable: cluster.existingNodes(),
      volumeAffinity: (p) => cluster.volumeAffinity(p),
    });
    this.#unneededSince = plan.unneededSince;
    scalerMetrics.unneededNodes.set(this.#unneededSince.size);
    for (const b of plan.blocked) d.log.debug({ node: b.node, blocked: b.reason }, 'node is unneeded but cannot be removed');
    const nodeOf = (r: NodeRemoval) => byName.get(r.group)!.registered.find((n) => n.metadata?.name === r.node)!;
    for (const r of plan.empty) this.#startDrain(byName.get(r.group)!, nodeOf(r), [], 'empty');
    if (plan.drain) this.#startDrain(byName.get(plan.drain.group)!, nodeOf(plan.drain), plan.drain.pods, 'underutilized');
  }

  /** Drains in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.#drains.values()].map((x) => x.done));
  }

  #startDrain(v: GroupView, node: Node, pods: Pod[], why: 'empty' | 'underutilized'): void {
    const { d } = this.#ctx;
    const name = node.metadata?.name ?? '';
    const instanceId = instanceIdFromProviderId(node.spec?.providerID);
    if (!instanceId) return;
    const drain: Drain = { node: name, group: v.name, instanceId, started: this.#ctx.now(), done: Promise.resolve() };
    drain.done = this.#drain(v, node, instanceId, pods, why)
      .catch((err: unknown) => {
        d.log.error({ node: name, err: String(err) }, 'scale-down failed');
        d.events.warning(node, Reasons.ScaleDownFailed, `scale-down of ${name} failed: ${String(err)}`, { type: NODE_TYPE });
      })
      .finally(() => this.#drains.delete(name));
    this.#drains.set(name, drain);
  }

  async #taint(node: Node, on: boolean): Promise<void> {
    const { d } = this.#ctx;
    const name = node.metadata?.name ?? '';
    const current = (await d.kube.get<Node>(NODE_RESOURCE, name)) ?? node;
    const others = (current.spec?.taints ?? []).filter((t) => t.key !== TO_BE_DELETED_TAINT);
    const taints = on ? [...others, { key: TO_BE_DELETED_TAINT, value: String(Math.floor(this.#ctx.now() / 1000)), effect: 'NoSchedule' as const }] : others;
    await d.kube.patch(NODE_RESOURCE, { name }, { spec: { unschedulable: on ? true : null, taints } });
  }

  async #evict(p: Pod): Promise<'evicted' | 'blocked' | 'gone'> {
    const ns = p.metadata?.namespace ?? '';
    const name = p.metadata?.name ?? '';
    try {
      await this.#ctx.d.kube.request('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/eviction`, {
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } },
      });
      scalerMetrics.evictions.inc({ outcome: 'evicted' });
      return 'evicted';
    } catch (err) {
      if (isKubeNotFound(err)) return 'gone';
      if (err instanceof KubeApiError && err.code === 429) {
        scalerMetrics.evictions.inc({ outcome: 'blocked' });
        return 'blocked';
      }
      throw err;
    }
  }

  async #drain(v: GroupView, node: Node, instanceId: string, pods: Pod[], why: 'empty' | 'underutilized'): Promise<void> {
    const { d, cluster } = this.#ctx;
    const s = d.settings;
    const name = node.metadata?.name ?? '';
    const start = this.#ctx.now();
    d.log.info({ node: name, nodeGroup: v.name, pods: pods.length, why }, 'removing node');
    await this.#taint(node, true);
    try {
      let left = pods;
      let lastBlocked = '';
      const deadline = start + s.maxGracefulTerminationMs;
      const now = this.#ctx.now;
      // A background drain, not a reconcile: it waits for PodDisruptionBudgets with core's poll helper.
      await pollUntil(
        async () => {
          const next: Pod[] = [];
          for (const p of left) {
            const r = await this.#evict(p);
            if (r === 'blocked') {
              next.push(p);
              lastBlocked = podKey(p);
            }
          }
          left = next;
          return left.length === 0 ? true : undefined;
        },
        {
          intervalMs: s.evictionRetryMs,
          deadline,
          now,
          onTimeout: () => new Error(`evicting ${lastBlocked} is still refused by a PodDisruptionBudget after ${Math.round(s.maxGracefulTerminationMs / 1000)}s`),
          onWait: () => d.events.normal(node, Reasons.ScaleDown, `waiting for a PodDisruptionBudget to allow evicting ${lastBlocked}`, { type: NODE_TYPE }),
        },
      );
      // wait for the evicted pods to be gone from the node
      const uids = new Set(pods.map((p) => p.metadata?.uid));
      await pollUntil(() => (cluster.podsOn(name).some((p) => uids.has(p.metadata?.uid)) ? undefined : true), {
        intervalMs: 200,
        deadline,
        now,
        onTimeout: () => new Error('evicted pods did not terminate in time'),
      });
    } catch (err) {
      await this.#taint(node, false).catch(() => undefined);
      throw err;
    }
    await d.provider.terminate(instanceId);
    const m = this.#ctx.memory.get(v.name);
    const from = (await d.provider.describe([v.asg!.name])).get(v.asg!.name)?.desiredCapacity;
    m.lastScaleDown = { time: rfc3339(new Date(this.#ctx.now())), from: (from ?? 0) + 1, to: from ?? 0, reason: `node ${name} was ${why}`, nodes: [name] };
    this.#unneededSince.delete(name);
    scalerMetrics.scaleDowns.inc({ group: v.name, reason: why });
    d.events.normal(node, Reasons.ScaleDown, `node removed by scale-down: ${why}; instance ${instanceId} terminated`, { type: NODE_TYPE });
    d.events.normal(v.ng, why === 'empty' ? Reasons.ScaleDownEmpty : Reasons.ScaleDown, `removed ${name} (${instanceId}): ${why}`, { type: NODE_GROUP_TYPE });
    d.log.info({ node: name, nodeGroup: v.name, instance: instanceId }, 'node removed');
  }
}
