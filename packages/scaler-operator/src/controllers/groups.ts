import { assertMutable } from '@kube-iaas/core/tags';
import { classifyAwsError } from '@kube-iaas/core/aws';
import { rfc3339 } from '@kube-iaas/core/runtime';
import { instanceIdFromProviderId, type AsgView } from '../aws/groups.ts';
import type { V1Node as Node } from '@kubernetes/client-node';
import { asgOwners } from '../plan/limits.ts';
import { isReady, usable } from '../plan/node.ts';
import { buildNodeTemplate, TemplateError } from '../template/build.ts';
import { scalerMetrics } from '../metrics.ts';
import { syncLimits } from './limits.ts';
import type { GroupView, RunContext } from './state.ts';

/**
 * Reads every NodeGroup's ASG and builds its view: sizes, registered nodes, node template, and why it
 * may not grow. A NodeGroup that does not own its ASG makes no AWS call; `manageAsgLimits` is applied here.
 */
export async function readGroups(ctx: RunContext): Promise<GroupView[]> {
  const { d } = ctx;
  const s = d.settings;
  const all = d.nodeGroups.list();
  const owners = asgOwners(all.map((ng) => ({ name: ng.metadata.name ?? '', asgName: ng.spec.asgName, created: ng.metadata.creationTimestamp })));
  const ngs = all.filter((ng) => !ng.metadata.deletionTimestamp);
  const asgs = ngs.length ? await d.provider.describe(ngs.map((n) => n.spec.asgName)) : new Map<string, AsgView>();
  const instToNode = new Map<string, Node>();
  for (const n of d.nodes.list()) {
    const id = instanceIdFromProviderId(n.spec?.providerID);
    if (id) instToNode.set(id, n);
  }
  const daemonSets = d.daemonSets.list().map((ds) => ({ key: `${ds.metadata?.namespace}/${ds.metadata?.name}`, podSpec: ds.spec?.template?.spec ?? { containers: [] } }));
  const now = ctx.now();
  const out: GroupView[] = [];
  for (const ng of ngs) {
    const name = ng.metadata.name ?? '';
    const m = ctx.memory.get(name, ng);
    const asg = asgs.get(ng.spec.asgName);
    const v: GroupView = { ng, name, asg, min: 0, max: 0, desired: 0, current: 0, registered: [], ready: 0, upcoming: 0, priority: ng.spec.priority ?? 0 };
    out.push(v);
    const owner = owners.get(ng.spec.asgName);
    if (owner !== undefined && owner !== name) {
      // Checked before anything else: a second NodeGroup for an ASG makes no AWS call at all.
      v.asg = undefined;
      v.problem = {
        reason: 'Conflict',
        message: `Auto Scaling group ${ng.spec.asgName} is already managed by NodeGroup ${owner} (created first); this NodeGroup makes no changes to it until ${owner} is deleted`,
      };
      v.blocked = v.problem.message;
      continue;
    }
    if (!asg) {
      v.problem = { reason: 'AsgNotFound', message: `Auto Scaling group ${ng.spec.asgName} does not exist` };
      v.blocked = v.problem.message;
      continue;
    }
    const live = asg.instances.filter((i) => !/^Terminat/.test(i.lifecycleState ?? ''));
    v.desired = asg.desiredCapacity;
    v.current = live.length;
    v.registered = live.map((i) => instToNode.get(i.id)).filter((n): n is Node => !!n);
    v.ready = v.registered.filter(isReady).length;
    // A Node that registered but is not Ready with its allocatable published is still upcoming: the
    // scheduler cannot use it yet, and counting it as joined would plan its pods a second time.
    v.upcoming = Math.max(0, v.desired - v.registered.filter(usable).length);
    v.min = ng.spec.minSize ?? asg.minSize;
    v.max = ng.spec.maxSize ?? asg.maxSize;
    if (ng.spec.manageAsgLimits !== true) {
      // AWS refuses a desired capacity outside the ASG's own limits, which stay as they are: the
      // effective range is the part of the spec's that the ASG allows.
      v.min = Math.max(v.min, asg.minSize);
      v.max = Math.min(v.max, asg.maxSize);
    }
    try {
      assertMutable({ id: asg.name, type: 'auto scaling group', tags: asg.tags }, { cluster: s.cluster, change: 'scale' });
    } catch (err) {
      v.problem = { reason: 'NotOwned', message: (err as Error).message };
      v.blocked = v.problem.message;
      continue;
    }
    if (v.min > v.max) {
      v.problem = { reason: 'InvalidSize', message: `minSize ${v.min} exceeds maxSize ${v.max} (spec or ASG)` };
      v.blocked = v.problem.message;
      continue;
    }
    await syncLimits(ctx, v, asg);
    try {
      const launch = await d.provider.launchInfo(asg);
      const types = ng.spec.nodeTemplate?.instanceTypes?.length ? ng.spec.nodeTemplate.instanceTypes : launch.instanceTypes;
      const facts = await d.catalog.getMany(types);
      v.template = buildNodeTemplate({
        group: name,
        region: s.region,
        zones: asg.availabilityZones,
        launch,
        facts,
        asgTags: asg.tags,
        spec: ng.spec.nodeTemplate,
        reserved: s.reserved,
        defaultEphemeralStorage: s.nodeEphemeralStorage,
        daemonSets,
      });
    } catch (err) {
      const c = err instanceof TemplateError ? { code: 'TemplateInvalid', message: err.message } : classifyAwsError(err);
      v.problem = { reason: c.code === 'TemplateInvalid' ? 'TemplateInvalid' : 'TemplateUnavailable', message: c.message };
      v.blocked = c.message;
      continue;
    }
    if (ng.spec.scaleUp?.enabled === false) v.blocked = 'scale-up disabled by spec.scaleUp.enabled';
    else if (m.backoffUntil && m.backoffUntil > now) v.blocked = `backing off until ${rfc3339(new Date(m.backoffUntil))}: ${m.backoffReason ?? ''}`;
  }
  for (const v of out) {
    scalerMetrics.groupSize.set({ group: v.name, state: 'desired' }, v.desired);
    scalerMetrics.groupSize.set({ group: v.name, state: 'current' }, v.current);
    scalerMetrics.groupSize.set({ group: v.name, state: 'ready' }, v.ready);
    scalerMetrics.groupSize.set({ group: v.name, state: 'upcoming' }, v.upcoming);
    const m = ctx.memory.get(v.name);
    scalerMetrics.groupBackoff.set({ group: v.name }, m.backoffUntil && m.backoffUntil > now ? 1 : 0);
  }
  return out;
}
