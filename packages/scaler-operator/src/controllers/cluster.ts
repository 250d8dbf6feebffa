import type { V1NodeSelector as NodeSelector, V1Pod as Pod } from '@kubernetes/client-node';
import { isTerminal, nodeShape, schedulable } from '../plan/node.ts';
import type { ExistingNode } from '../plan/planner.ts';
import { specRequests } from '../plan/pod.ts';
import { addResources, type Resources } from '../quantity.ts';
import type { ScalerDeps } from './state.ts';

/** Reads of the informers' caches both loops share: pods per node, free room, volume affinity. */
export class ClusterView {
  readonly #d: ScalerDeps;

  constructor(deps: ScalerDeps) {
    this.#d = deps;
  }

  /** Node affinity of the PVs the pod's claims are bound to (the EBS zone). */
  volumeAffinity(pod: Pod): NodeSelector[] {
    const out: NodeSelector[] = [];
    for (const vol of pod.spec?.volumes ?? []) {
      const claim = vol.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const pvc = this.#d.pvcs.getByName(claim, pod.metadata?.namespace);
      const pvName = pvc?.spec?.volumeName;
      const pv = pvName ? this.#d.pvs.getByName(pvName) : undefined;
      const req = pv?.spec?.nodeAffinity?.required;
      if (req) out.push(req);
    }
    return out;
  }

  /** Registered, schedulable nodes with what their pods request (the scheduler's view of free room). */
  existingNodes(): ExistingNode[] {
    const out: ExistingNode[] = [];
    for (const n of this.#d.nodes.list()) {
      if (!schedulable(n)) continue;
      out.push({ node: nodeShape(n), used: this.usedOn(n.metadata?.name ?? '') });
    }
    return out;
  }

  podsOn(node: string): Pod[] {
    return this.#d.pods.byIndex('byNode', node).filter((p) => !isTerminal(p));
  }

  usedOn(node: string): Resources {
    let used: Resources = {};
    for (const p of this.podsOn(node)) used = addResources(used, specRequests(p.spec));
    return used;
  }
}
