import type { V1Pod as Pod } from '@kubernetes/client-node';
import { scalerMetrics } from '../metrics.ts';
import type { PlanResult } from '../plan/planner.ts';
import { ClusterView } from './cluster.ts';
import { discover } from './discovery.ts';
import { Disrupter } from './disruption.ts';
import { readGroups } from './groups.ts';
import { releaseLimits } from './limits.ts';
import { Provisioner } from './provisioning.ts';
import { GroupMemories, type RunContext, type ScalerDeps } from './state.ts';
import { writeStatuses } from './status.ts';

export { NODE_GROUP_TYPE, type ScalerDeps, type ScalerSettings } from './state.ts';

/**
 * The scaler: one level-triggered run (like the cluster autoscaler's RunOnce) over its stages —
 * discovery (ASG → NodeGroup), limits put back, group reads, provisioning (scale-up over the pure
 * planner), disruption (scale-down over the pure `planScaleDown`) and status. Runs on the leader only
 * (through a controller with one key); drains continue in the background between runs.
 */
export class Scaler {
  readonly #ctx: RunContext;
  readonly #provisioner: Provisioner;
  readonly #disrupter: Disrupter;

  constructor(deps: ScalerDeps) {
    const now = deps.now ?? Date.now;
    this.#ctx = { d: deps, now, memory: new GroupMemories(deps, now), cluster: new ClusterView(deps) };
    this.#provisioner = new Provisioner(this.#ctx);
    this.#disrupter = new Disrupter(this.#ctx);
  }

  /** Whether an unschedulable pod should start a run now (its workload declares pods no plan covered yet). */
  wantsPlan(pod: Pod): boolean {
    return this.#provisioner.wantsPlan(pod);
  }

  /** The last scale-up plan (tests, debugging). */
  get lastPlan(): PlanResult | undefined {
    return this.#provisioner.lastPlan;
  }

  /** One run. Errors of one group never stop the others. */
  async run(): Promise<void> {
    const { d, memory } = this.#ctx;
    const t0 = performance.now();
    try {
      if (d.settings.autoDiscovery) await discover(d, (name) => memory.forget(name)).catch((err: unknown) => d.log.warn({ err: String(err) }, 'ASG discovery failed; using known NodeGroups'));
      await releaseLimits(this.#ctx);
      const groups = await readGroups(this.#ctx);
      await this.#provisioner.checkProvisioning(groups);
      const scaledUp = await this.#provisioner.scaleUp(groups);
      if (d.settings.scaleDownEnabled && !scaledUp) this.#disrupter.scaleDown(groups);
      await writeStatuses(this.#ctx, groups);
    } finally {
      scalerMetrics.runSeconds.observe((performance.now() - t0) / 1000);
    }
  }

  /** Drains in flight (tests, shutdown). */
  async drainsSettled(): Promise<void> {
    await this.#disrupter.settled();
  }
}
