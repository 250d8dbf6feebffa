import { isKubeAlreadyExists } from '@kube-iaas/core/runtime';
import { planDiscovery } from '../translate/discovery.ts';
import { NODE_GROUP_TYPE, type ScalerDeps } from './state.ts';

/**
 * The discovery controller: reads the ASGs carrying the discovery tags and applies the stage-1
 * translation (`planDiscovery`). `deleted` hears of each NodeGroup it deleted.
 */
export async function discover(d: ScalerDeps, deleted: (name: string) => void): Promise<void> {
  const found = await d.provider.discover();
  const plan = planDiscovery(found.map((g) => g.name), d.nodeGroups.list());
  for (const body of plan.create) {
    try {
      await d.kube.create(NODE_GROUP_TYPE, body);
      d.log.info({ nodeGroup: body.metadata.name, asg: body.spec.asgName }, 'discovered ASG; created NodeGroup');
    } catch (err) {
      if (!isKubeAlreadyExists(err)) throw err;
    }
  }
  for (const name of plan.delete) {
    await d.kube.delete(NODE_GROUP_TYPE, { name });
    deleted(name);
    d.log.info({ nodeGroup: name, asg: d.nodeGroups.get(name)?.spec.asgName }, 'ASG no longer discoverable; deleted its NodeGroup');
  }
}
