import { classifyAwsError } from '@kube-iaas/core/aws';
import { rfc3339 } from '@kube-iaas/core/runtime';
import { Reasons } from '../constants.ts';
import { instanceIdFromProviderId } from '../aws/groups.ts';
import type { PodRequirements } from '../plan/match.ts';
import { usable } from '../plan/node.ts';
import { formatReasons, planScaleUp, type PlanGroup, type PlanResult } from '../plan/planner.ts';
import { isDaemonSetPod, isUnschedulable, podKey, podRequirements } from '../plan/pod.ts';
import { scalerMetrics } from '../metrics.ts';
import { NODE_GROUP_TYPE, POD_TYPE, specOr, type GroupView, type RunContext } from './state.ts';
import { WorkloadView } from './workloads.ts';
import type { V1Pod as Pod } from '@kubernetes/client-node';

/**
 * The provisioning loop: checks that requested nodes join (else backoff and give the capacity back),
 * plans the pending pods with the pure planner (`planScaleUp`) and asks the provider for the nodes.
 */
export class Provisioner {
  readonly #ctx: RunContext;
  readonly #workloads: WorkloadView;
  /** Requirements of pods without volume claims, by cached object (the informer replaces an object when it changes). */
  readonly #requirements = new WeakMap<Pod, PodRequirements>();
  /** Workload uid → group → the TriggeredScaleUp message of the scale-up that asked nodes for its pods. */
  readonly #triggered = new Map<string, Map<string, string>>();
  /** Unschedulable pods that got their TriggeredScaleUp. */
  #notified = new Set<string>();
  /** The last plan (tests, debugging). */
  lastPlan: PlanResult | undefined;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
    this.#workloads = new WorkloadView(ctx.d.workloads);
  }

  /** Whether this unschedulable pod's workload declares pods no plan has covered: plan now, not after a batch. */
  wantsPlan(pod: Pod): boolean {
    return this.#workloads.wantsPlan(pod);
  }

  #podRequirements(p: Pod): PodRequirements {
    const cached = this.#requirements.get(p);
    if (cached) return cached;
    const r = podRequirements(p, this.#ctx.cluster.volumeAffinity(p));
    // a claim may get bound (and its zone known) without the pod changing
    if (!p.spec?.volumes?.some((v) => v.persistentVolumeClaim)) this.#requirements.set(p, r);
    return r;
  }

  /** Requested nodes that did not join in time, or failed scaling activities: back off, give the capacity back. */
  async checkProvisioning(groups: GroupView[]): Promise<void> {
    const { d, memory } = this.#ctx;
    const now = this.#ctx.now();
    for (const v of groups) {
      if (!v.asg || v.problem) continue;
      const m = memory.get(v.name);
      if (v.upcoming === 0) {
        // everything asked for has joined: the group is healthy again
        if (m.lastScaleUpAt !== undefined) m.failures = 0;
        m.lastScaleUpAt = undefined;
        continue;
      }
      if (m.lastScaleUpAt === undefined || (m.backoffUntil && m.backoffUntil > now)) continue;
      const timeoutMs = specOr(v.ng.spec.scaleUp?.provisionTimeoutSeconds, 900, d.settings.provisionTimeoutMs / 1000) * 1000;
      let failure: string | undefined;
      try {
        const failed = await d.provider.failedActivities(v.asg.name, new Date(m.lastScaleUpAt));
        if (failed.length) failure = `scaling activity failed: ${failed[0]!.description} ${failed[0]!.message}`.trim();
      } catch (err) {
        d.log.debug({ err: String(err) }, 'DescribeScalingActivities failed');
      }
      if (!failure && now - m.lastScaleUpAt > timeoutMs) failure = `nodes did not join within ${Math.round(timeoutMs / 1000)}s (${v.upcoming} of ${v.desired} missing)`;
      if (!failure) continue;
      memory.backoff(v, failure);
      await this.#giveBack(v);
      m.lastScaleUpAt = undefined;
    }
  }

  /**
   * After a failed scale-up: terminate the group's instances that never joined and drop capacity that
   * never became an instance, so re-planned pods do not end up with two nodes each and nothing waits
   * for nodes that will not come.
   */
  async #giveBack(v: GroupView): Promise<void> {
    const { d } = this.#ctx;
    if (!v.asg) return;
    const registeredIds = new Set(v.registered.map((n) => instanceIdFromProviderId(n.spec?.providerID)));
    const stray = v.asg.instances.filter((i) => !registeredIds.has(i.id) && !/^Terminat/.test(i.lifecycleState ?? ''));
    let desired = v.desired;
    for (const i of stray) {
      if (desired <= v.min) break;
      try {
        await d.provider.terminate(i.id);
        desired--;
      } catch (err) {
        d.log.warn({ nodeGroup: v.name, instance: i.id, err: String(err) }, 'could not terminate an instance that did not join');
      }
    }
    // Lowering desired only to the number of live instances never lets the ASG pick a joined node to terminate.
    try {
      const now = (await d.provider.describe([v.asg.name])).get(v.asg.name);
      const live = now?.instances.filter((i) => !/^Terminat/.test(i.lifecycleState ?? '')).length ?? desired;
      desired = now?.desiredCapacity ?? desired;
      const target = Math.max(v.min, live);
      if (target < desired) {
        await d.provider.setDesired(v.asg.name, target);
        desired = target;
      }
    } catch (err) {
      d.log.warn({ nodeGroup: v.name, err: String(err) }, 'could not lower the desired capacity after a failed scale-up');
    }
    v.desired = desired;
    v.upcoming = Math.max(0, desired - v.registered.filter(usable).length);
  }

  /** One TriggeredScaleUp per unschedulable pod. */
  #notify(p: Pod | undefined, msg: string): void {
    if (!p || !isUnschedulable(p)) return;
    const k = podKey(p);
    if (this.#notified.has(k)) return;
    this.#notified.add(k);
    this.#ctx.d.events.normal(p, Reasons.TriggeredScaleUp, msg, { type: POD_TYPE });
  }

  /** Plans the pending pods and asks for nodes; true when it asked. */
  async scaleUp(groups: GroupView[]): Promise<boolean> {
    const { d, memory, cluster } = this.#ctx;
    const s = d.settings;
    const unschedulable = d.pods.list().filter((p) => isUnschedulable(p) && !isDaemonSetPod(p));
    scalerMetrics.unschedulablePods.set(unschedulable.length);
    // a workload's pods are planned together, with the ones it has yet to create; other pods in batches
    const expanded = this.#workloads.expand(unschedulable, (p) => this.#podRequirements(p), d.batchHolds);
    const reqs = expanded.pods;
    this.#notified = new Set(unschedulable.map(podKey).filter((k) => this.#notified.has(k)));
    if (reqs.length === 0) return false;
    const byKey = new Map(unschedulable.map((p) => [podKey(p), p]));
    const planGroups: PlanGroup[] = groups.map((v) => ({ name: v.name, template: v.template, blocked: v.blocked, desired: v.desired, max: v.max, upcoming: v.upcoming, priority: v.priority }));
    const currentNodes = d.nodes.list().length + groups.reduce((n, v) => n + v.upcoming, 0);
    const t0 = performance.now();
    const existingNodes = cluster.existingNodes();
    if (d.log.isLevelEnabled('debug')) d.log.debug({ nodes: existingNodes.map((e) => ({ n: e.node.name, alloc: e.node.allocatable, used: e.used })), groups: planGroups.map((g) => ({ n: g.name, d: g.desired, u: g.upcoming })) }, 'plan input');
    const plan = planScaleUp({ pods: reqs, groups: planGroups, nodes: existingNodes, expander: s.expander, maxNodesTotal: s.maxNodesTotal, currentNodes });
    scalerMetrics.planSeconds.observe((performance.now() - t0) / 1000);
    this.lastPlan = plan;
    this.#workloads.planned(expanded.workloads);
    d.log.info(
      {
        pending: reqs.length,
        unschedulable: unschedulable.length,
        workloads: expanded.workloads.length,
        onExisting: plan.onExisting.length,
        onUpcoming: Object.values(plan.onUpcoming).reduce((n, l) => n + l.length, 0),
        scaleUps: plan.scaleUps.map((su) => `${su.group} ${su.from}->${su.to}`),
        unhelpable: plan.unhelpable.length,
      },
      'scale-up plan',
    );

    let asked = false;
    for (const su of plan.scaleUps) {
      const v = groups.find((g) => g.name === su.group)!;
      const nodes = su.to - su.from;
      const reason = `${su.pods.length} pending pod(s) need ${nodes} ${su.instanceType} node(s)`;
      try {
        await d.provider.setDesired(v.asg!.name, su.to);
      } catch (err) {
        const c = classifyAwsError(err);
        d.events.warning(v.ng, Reasons.ScaleUpFailed, `SetDesiredCapacity ${su.from}->${su.to} failed: ${c.code}: ${c.message}`, { type: NODE_GROUP_TYPE });
        // Like a failed launch: the group backs off and its pods are planned elsewhere in the next run.
        // Only throttling is AWS asking us to slow down rather than the group being unable to grow.
        if (c.kind !== 'throttled') {
          memory.backoff(v, `SetDesiredCapacity failed: ${c.code}: ${c.message}`);
          // AWS may have taken the new desired capacity before the launch failed
          await this.#giveBack(v);
        }
        continue;
      }
      asked = true;
      const m = memory.get(v.name);
      m.lastScaleUpAt = this.#ctx.now();
      m.lastScaleUp = { time: rfc3339(new Date(m.lastScaleUpAt)), from: su.from, to: su.to, reason };
      memory.lastScaleUpAny = m.lastScaleUpAt;
      v.desired = su.to;
      v.upcoming += nodes;
      scalerMetrics.scaleUps.inc({ group: v.name });
      scalerMetrics.nodesRequested.inc({ group: v.name }, nodes);
      d.log.info({ nodeGroup: v.name, from: su.from, to: su.to, pods: su.pods.length }, 'scaled up');
      d.events.normal(v.ng, Reasons.ScaledUpGroup, `scale-up: ${v.name} ${su.from}->${su.to} (max ${v.max}): ${reason}`, { type: NODE_GROUP_TYPE });
      const msg = `pod triggered scale-up: [{${v.name} ${su.from}->${su.to} (max: ${v.max})}]`;
      for (const w of expanded.workloads) {
        if (!su.pods.some((k) => expanded.workloadOf.get(k) === w.uid || k.startsWith(`${w.key}#`))) continue;
        let m = this.#triggered.get(w.uid);
        if (!m) this.#triggered.set(w.uid, (m = new Map()));
        m.set(v.name, msg);
      }
      for (const k of su.pods) this.#notify(byKey.get(k), msg);
    }
    // pods a workload had yet to create when its nodes were asked for: the scale-up was theirs too
    for (const [group, keys] of Object.entries(plan.onUpcoming)) {
      for (const k of keys) {
        const uid = expanded.workloadOf.get(k);
        const msg = uid ? this.#triggered.get(uid)?.get(group) : undefined;
        if (msg) this.#notify(byKey.get(k), msg);
      }
    }
    if (this.#triggered.size > 1000) this.#triggered.clear();
    for (const u of plan.unhelpable) {
      const p = byKey.get(u.pod);
      if (p) d.events.normal(p, Reasons.NotTriggerScaleUp, `pod didn't trigger scale-up: ${formatReasons(u.reasons)}`, { type: POD_TYPE });
    }
    return asked;
  }
}
