import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import {
  assertMutable,
  classifyAwsError,
  hasFinalizer,
  isBeingDeleted,
  removeFinalizer,
  KubeApiError,
  isKubeAlreadyExists,
  isKubeNotFound,
  rfc3339,
  setConditions,
  type Condition,
  type ConditionUpdate,
  type EventRecorder,
  type Informer,
  type InstanceTypeCatalog,
  type KubeClient,
  type Logger,
  type ResourceType,
  type StatusWriter,
} from '@kube-iaas/core';
import { NODE_GROUP, type NodeGroup, type NodeGroupStatus } from '@kube-iaas/crds';
import {
  ASG_LIMITS_ANNOTATION,
  DISCOVERED_ANNOTATION,
  FINALIZER,
  STARTUP_TAINTS,
  STARTUP_TAINT_PREFIXES,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  Reasons,
  SAFE_TO_EVICT_ANNOTATION,
  SAFE_TO_EVICT_LOCAL_VOLUMES_ANNOTATION,
  SCALE_DOWN_DISABLED_ANNOTATION,
  TO_BE_DELETED_TAINT,
} from '../constants.ts';
import type { DaemonSet, Node, NodeSelector, PersistentVolume, PersistentVolumeClaim, Pod } from '../k8s.ts';
import { asgLimitsUpdate, describeGroups, discoverGroups, failedActivities, instanceIdFromProviderId, setDesiredCapacity, terminateInstance, updateAsgLimits, type AsgView, type LaunchInfoReader } from '../aws/groups.ts';
import type { NodeShape, PodRequirements } from '../plan/match.ts';
import { classify, firstFit, newBin } from '../plan/pack.ts';
import { formatReasons, planScaleUp, type ExistingNode, type PlanGroup, type PlanResult } from '../plan/planner.ts';
import type { ExpanderName } from '../plan/expander.ts';
import { isDaemonSetPod, isUnschedulable, podKey, podRequirements, specRequests } from '../plan/pod.ts';
import { addResources, formatResources, toResources, type Resources } from '../quantity.ts';
import { buildNodeTemplate, TemplateError, type NodeTemplate } from '../template/build.ts';
import { asgOwners, formatLimitsRecord, limitsRestore, nextLimitsRecord, parseLimitsRecord } from '../plan/limits.ts';
import { scalerMetrics } from '../metrics.ts';

export const NODE_GROUP_TYPE: ResourceType = { apiVersion: NODE_GROUP.apiVersion, kind: NODE_GROUP.kind, plural: NODE_GROUP.plural, namespaced: false };
const POD_TYPE = { apiVersion: 'v1', kind: 'Pod' } as const;
const NODE_TYPE = { apiVersion: 'v1', kind: 'Node' } as const;

export interface ScalerSettings {
  cluster: string;
  region: string;
  autoDiscovery: boolean;
  expander: ExpanderName;
  maxNodesTotal: number;
  reserved: Resources;
  nodeEphemeralStorage: number;
  provisionTimeoutMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  scaleDownEnabled: boolean;
  utilizationThreshold: number;
  unneededMs: number;
  delayAfterAddMs: number;
  maxEmptyBulkDelete: number;
  maxGracefulTerminationMs: number;
  evictionRetryMs: number;
}

export interface ScalerDeps {
  settings: ScalerSettings;
  kube: KubeClient;
  events: EventRecorder;
  status: StatusWriter;
  log: Logger;
  asg: AutoScalingClient;
  ec2: EC2Client;
  catalog: InstanceTypeCatalog;
  launch: LaunchInfoReader;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  nodeGroups: Informer<NodeGroup>;
  daemonSets: Informer<DaemonSet>;
  pvcs: Informer<PersistentVolumeClaim>;
  pvs: Informer<PersistentVolume>;
  /** Whether a pod belongs to the batch of unschedulable pods still collecting: it waits for that batch to close. */
  batchHolds: (podKey: string) => boolean;
  now?: () => number;
}

/** What one run learnt about a group. */
interface GroupView {
  ng: NodeGroup;
  name: string;
  asg?: AsgView | undefined;
  template?: NodeTemplate | undefined;
  /** Why the group may not grow (bad input, backoff, disabled). */
  blocked?: string | undefined;
  /** A problem with the NodeGroup or its ASG (a condition + Warning Event). */
  problem?: { reason: string; message: string } | undefined;
  min: number;
  max: number;
  desired: number;
  current: number;
  registered: Node[];
  ready: number;
  upcoming: number;
  priority: number;
}

interface GroupMemory {
  lastScaleUpAt?: number;
  failures: number;
  backoffUntil?: number;
  backoffReason?: string;
  lastScaleUp?: NodeGroupStatus['lastScaleUp'];
  lastScaleDown?: NodeGroupStatus['lastScaleDown'];
  lastProblem?: string;
  lastLimitsError?: string;
}

interface Drain {
  node: string;
  group: string;
  instanceId: string;
  started: number;
  done: Promise<void>;
}

/**
 * A spec field the CRD defaults: the API server fills in `crdDefault` when it is unset, so that value
 * means "not set" and the operator flag applies; any other value is the user's.
 */
function specOr(v: number | undefined, crdDefault: number, flagValue: number): number {
  return v === undefined || v === crdDefault ? flagValue : v;
}

function isReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Ready and with allocatable published: the scheduler can place pods on it. */
function usable(n: Node): boolean {
  return isReady(n) && Object.keys(n.status?.allocatable ?? {}).length > 0;
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

function isMirror(p: Pod): boolean {
  return !!p.metadata?.annotations?.['kubernetes.io/config.mirror'];
}

function toBeDeleted(n: Node): boolean {
  return (n.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
}

/** A valid NodeGroup name for an ASG name (DNS subdomain). */
export function nodeGroupNameFor(asgName: string): string {
  const s = asgName
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return (s || 'asg').slice(0, 253);
}

/**
 * Taints a joining node carries for a moment (the node lifecycle controller's not-ready taint, the cloud
 * controller's uninitialized taint) or that the cluster autoscaler's convention marks as startup taints.
 * They go away by themselves, so the planner ignores them; otherwise a node that just joined would look
 * full and its pods would be planned a second time.
 */
export function isStartupTaint(key: string): boolean {
  return STARTUP_TAINTS.has(key) || STARTUP_TAINT_PREFIXES.some((p) => key.startsWith(p));
}

export function nodeShape(n: Node): NodeShape {
  const taints = (n.spec?.taints ?? []).filter((t) => !isStartupTaint(t.key));
  return { name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {}, taints, allocatable: toResources(n.status?.allocatable) };
}

/**
 * The scaler: one level-triggered run (like the cluster autoscaler's RunOnce) that discovers groups,
 * reads their ASGs, plans and requests scale-ups, checks provisioning, plans and performs
 * scale-downs, and writes every NodeGroup's status. Runs on the leader only (through a controller
 * with one key); drains continue in the background between runs.
 */
export class Scaler {
  readonly #d: ScalerDeps;
  readonly #s: ScalerSettings;
  readonly #now: () => number;
  readonly #memory = new Map<string, GroupMemory>();
  readonly #unneededSince = new Map<string, number>();
  readonly #drains = new Map<string, Drain>();
  #lastScaleUpAny = 0;
  /** The last plan (tests, debugging). */
  lastPlan: PlanResult | undefined;

  constructor(deps: ScalerDeps) {
    this.#d = deps;
    this.#s = deps.settings;
    this.#now = deps.now ?? Date.now;
  }

  #mem(name: string, ng?: NodeGroup): GroupMemory {
    let m = this.#memory.get(name);
    if (!m) {
      m = { failures: 0 };
      // survive restarts: pick up what the status says
      const st = ng?.status;
      if (st?.backoffUntil) {
        m.backoffUntil = Date.parse(st.backoffUntil);
        m.backoffReason = st.backoffReason ?? '';
      }
      if (st?.lastScaleUp?.time) {
        m.lastScaleUpAt = Date.parse(st.lastScaleUp.time);
        m.lastScaleUp = st.lastScaleUp;
      }
      if (st?.lastScaleDown) m.lastScaleDown = st.lastScaleDown;
      this.#memory.set(name, m);
    }
    return m;
  }

  /** One run. Errors of one group never stop the others. */
  async run(): Promise<void> {
    const t0 = performance.now();
    try {
      if (this.#s.autoDiscovery) await this.#discover().catch((err: unknown) => this.#d.log.warn({ err: String(err) }, 'ASG discovery failed; using known NodeGroups'));
      await this.#releaseLimits();
      const groups = await this.#readGroups();
      await this.#checkProvisioning(groups);
      const scaledUp = await this.#scaleUp(groups);
      if (this.#s.scaleDownEnabled && !scaledUp) await this.#scaleDown(groups);
      await this.#writeStatuses(groups);
    } finally {
      scalerMetrics.runSeconds.observe((performance.now() - t0) / 1000);
    }
  }

  // ---------------------------------------------------------------------------------- discovery

  async #discover(): Promise<void> {
    const found = await discoverGroups(this.#d.asg, this.#s.cluster);
    const wanted = new Map(found.map((g) => [nodeGroupNameFor(g.name), g]));
    const claimed = new Set(this.#d.nodeGroups.list().map((ng) => ng.spec.asgName));
    for (const [name, g] of wanted) {
      const existing = this.#d.nodeGroups.get(name);
      // An ASG a hand-made NodeGroup already manages gets no second one (it would only be in conflict).
      if (existing || claimed.has(g.name)) continue;
      const body: NodeGroup = {
        apiVersion: NODE_GROUP.apiVersion,
        kind: 'NodeGroup',
        metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, annotations: { [DISCOVERED_ANNOTATION]: 'true' } },
        spec: { asgName: g.name },
      };
      try {
        await this.#d.kube.create(NODE_GROUP_TYPE, body);
        this.#d.log.info({ nodeGroup: name, asg: g.name }, 'discovered ASG; created NodeGroup');
      } catch (err) {
        if (!isKubeAlreadyExists(err)) throw err;
      }
    }
    // Discovered NodeGroups whose ASG is gone or lost its discovery tags go away; hand-made ones stay.
    for (const ng of this.#d.nodeGroups.list()) {
      const name = ng.metadata.name ?? '';
      if (ng.metadata.annotations?.[DISCOVERED_ANNOTATION] !== 'true' || wanted.has(name)) continue;
      await this.#d.kube.delete(NODE_GROUP_TYPE, { name });
      this.#memory.delete(name);
      this.#d.log.info({ nodeGroup: name, asg: ng.spec.asgName }, 'ASG no longer discoverable; deleted its NodeGroup');
    }
  }

  // ---------------------------------------------------------------------------------- groups

  async #readGroups(): Promise<GroupView[]> {
    const all = this.#d.nodeGroups.list();
    const owners = asgOwners(all.map((ng) => ({ name: ng.metadata.name ?? '', asgName: ng.spec.asgName, created: ng.metadata.creationTimestamp })));
    const ngs = all.filter((ng) => !ng.metadata.deletionTimestamp);
    const asgs = ngs.length ? await describeGroups(this.#d.asg, ngs.map((n) => n.spec.asgName)) : new Map<string, AsgView>();
    const instToNode = new Map<string, Node>();
    for (const n of this.#d.nodes.list()) {
      const id = instanceIdFromProviderId(n.spec?.providerID);
      if (id) instToNode.set(id, n);
    }
    const daemonSets = this.#d.daemonSets.list().map((ds) => ({ key: `${ds.metadata?.namespace}/${ds.metadata?.name}`, podSpec: ds.spec?.template?.spec ?? {} }));
    const now = this.#now();
    const out: GroupView[] = [];
    for (const ng of ngs) {
      const name = ng.metadata.name ?? '';
      const m = this.#mem(name, ng);
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
        assertMutable({ id: asg.name, type: 'auto scaling group', tags: asg.tags }, { cluster: this.#s.cluster, change: 'scale' });
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
      await this.#syncLimits(v, asg);
      try {
        const launch = await this.#d.launch.read(asg);
        const types = ng.spec.nodeTemplate?.instanceTypes?.length ? ng.spec.nodeTemplate.instanceTypes : launch.instanceTypes;
        const facts = await this.#d.catalog.getMany(types);
        v.template = buildNodeTemplate({
          group: name,
          region: this.#s.region,
          zones: asg.availabilityZones,
          launch,
          facts,
          asgTags: asg.tags,
          spec: ng.spec.nodeTemplate,
          reserved: this.#s.reserved,
          defaultEphemeralStorage: this.#s.nodeEphemeralStorage,
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
      const m = this.#mem(v.name);
      scalerMetrics.groupBackoff.set({ group: v.name }, m.backoffUntil && m.backoffUntil > now ? 1 : 0);
    }
    return out;
  }

  /** `spec.manageAsgLimits`: write the spec's min/max onto the ASG. A failure is reported, scaling goes on within the ASG's limits. */
  async #syncLimits(v: GroupView, asg: AsgView): Promise<void> {
    const update = asgLimitsUpdate(v.ng.spec, asg);
    if (!update) return;
    const m = this.#mem(v.name);
    try {
      // What the limits were goes on the NodeGroup (with a finalizer) before they change, so they can be
      // put back when it goes, also by a restarted operator. resourceVersion: never from a stale cache.
      const previous = parseLimitsRecord(v.ng.metadata.annotations?.[ASG_LIMITS_ANNOTATION]);
      const record = nextLimitsRecord(previous, asg.name, asg, { minSize: update.MinSize, maxSize: update.MaxSize });
      const finalizers = v.ng.metadata.finalizers ?? [];
      v.ng = await this.#d.kube.patch<NodeGroup>(NODE_GROUP_TYPE, { name: v.name }, {
        metadata: {
          resourceVersion: v.ng.metadata.resourceVersion,
          annotations: { [ASG_LIMITS_ANNOTATION]: formatLimitsRecord(record) },
          finalizers: finalizers.includes(FINALIZER) ? finalizers : [...finalizers, FINALIZER],
        },
      });
    } catch (err) {
      // Not written down, not changed: tried again in the next run.
      this.#d.log.warn({ nodeGroup: v.name, err: String(err) }, 'could not record the ASG limits before changing them');
      v.max = Math.min(v.max, asg.maxSize);
      v.min = Math.max(v.min, asg.minSize);
      return;
    }
    try {
      await updateAsgLimits(this.#d.asg, asg.name, update);
    } catch (err) {
      const c = classifyAwsError(err);
      const msg = `UpdateAutoScalingGroup MinSize=${update.MinSize} MaxSize=${update.MaxSize} failed: ${c.code}: ${c.message}`;
      if (m.lastLimitsError !== msg) this.#d.events.warning(v.ng, Reasons.AsgLimitsFailed, msg, { type: NODE_GROUP_TYPE });
      m.lastLimitsError = msg;
      this.#d.log.warn({ nodeGroup: v.name, err: msg }, 'could not write spec limits to the ASG');
      v.max = Math.min(v.max, asg.maxSize);
      return;
    }
    m.lastLimitsError = undefined;
    const from = `${asg.minSize}/${asg.maxSize}`;
    asg.minSize = update.MinSize;
    asg.maxSize = update.MaxSize;
    if (update.DesiredCapacity !== undefined) v.desired = asg.desiredCapacity = update.DesiredCapacity;
    v.upcoming = Math.max(0, v.desired - v.registered.filter(usable).length);
    const msg = `ASG ${asg.name} MinSize/MaxSize ${from} -> ${update.MinSize}/${update.MaxSize} (spec.manageAsgLimits)${update.DesiredCapacity !== undefined ? `, desired capacity ${update.DesiredCapacity}` : ''}`;
    this.#d.events.normal(v.ng, Reasons.AsgLimitsUpdated, msg, { type: NODE_GROUP_TYPE });
    this.#d.log.info({ nodeGroup: v.name, minSize: update.MinSize, maxSize: update.MaxSize, desired: update.DesiredCapacity }, 'wrote spec limits to the ASG');
  }

  /**
   * NodeGroups that no longer manage their ASG's limits (being deleted, `manageAsgLimits` turned off, or
   * `spec.asgName` pointed elsewhere) put back the limits they changed (`limitsRestore`), then drop the
   * record and the finalizer (a new ASG gets a record of its own on its first write). A
   * retryable failure keeps both for the next run; one that cannot pass (the ASG is gone, or no longer
   * ours to change) is reported and lets the NodeGroup go.
   */
  async #releaseLimits(): Promise<void> {
    const done = this.#d.nodeGroups.list().filter((ng) => {
      const deleting = isBeingDeleted(ng);
      const raw = ng.metadata.annotations?.[ASG_LIMITS_ANNOTATION];
      if (deleting) return hasFinalizer(ng, FINALIZER);
      return raw !== undefined && (ng.spec.manageAsgLimits !== true || parseLimitsRecord(raw)?.asgName !== ng.spec.asgName);
    });
    if (done.length === 0) return;
    const records = done.map((ng) => parseLimitsRecord(ng.metadata.annotations?.[ASG_LIMITS_ANNOTATION]));
    const asgs = await describeGroups(this.#d.asg, records.flatMap((r) => (r ? [r.asgName] : [])));
    for (const [i, ng] of done.entries()) {
      const name = ng.metadata.name ?? '';
      const record = records[i];
      const asg = record ? asgs.get(record.asgName) : undefined;
      if (record && !asg) this.#d.events.warning(ng, Reasons.AsgLimitsKept, `ASG ${record.asgName} no longer exists; no limits to put back`, { type: NODE_GROUP_TYPE });
      if (record && asg) {
        const plan = limitsRestore(record, asg);
        if (plan.action === 'write') {
          try {
            await updateAsgLimits(this.#d.asg, asg.name, plan.limits);
            this.#d.events.normal(ng, Reasons.AsgLimitsRestored, plan.message, { type: NODE_GROUP_TYPE });
            this.#d.log.info({ nodeGroup: name, asg: asg.name, minSize: plan.limits.MinSize, maxSize: plan.limits.MaxSize }, 'put the ASG limits back');
          } catch (err) {
            const c = classifyAwsError(err);
            this.#d.events.warning(ng, Reasons.AsgLimitsFailed, `putting back ASG ${asg.name} MinSize/MaxSize ${plan.limits.MinSize}/${plan.limits.MaxSize} failed: ${c.code}: ${c.message}`, { type: NODE_GROUP_TYPE });
            if (c.kind !== 'terminal' && c.kind !== 'not-found') continue;
          }
        } else if (plan.action === 'leave') {
          this.#d.events.warning(ng, Reasons.AsgLimitsKept, plan.message, { type: NODE_GROUP_TYPE });
        }
      }
      try {
        if (isBeingDeleted(ng)) await removeFinalizer(this.#d.kube, NODE_GROUP_TYPE, ng, FINALIZER);
        else {
          await this.#d.kube.patch(NODE_GROUP_TYPE, { name }, {
            metadata: { resourceVersion: ng.metadata.resourceVersion, annotations: { [ASG_LIMITS_ANNOTATION]: null }, finalizers: (ng.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) },
          });
        }
      } catch (err) {
        if (!isKubeNotFound(err)) this.#d.log.warn({ nodeGroup: name, err: String(err) }, 'could not drop the ASG limits record');
      }
    }
  }

  #backoff(v: GroupView, reason: string): void {
    const m = this.#mem(v.name);
    m.failures++;
    const ms = Math.min(this.#s.backoffMs * 2 ** (m.failures - 1), this.#s.backoffMaxMs);
    m.backoffUntil = this.#now() + ms;
    m.backoffReason = reason;
    v.blocked = `backing off until ${rfc3339(new Date(m.backoffUntil))}: ${reason}`;
    scalerMetrics.scaleUpFailures.inc({ group: v.name, reason: reason.startsWith('nodes did not join') ? 'timeout' : 'failed' });
    this.#d.events.warning(v.ng, Reasons.Backoff, `scale-up of ${v.name} backs off for ${Math.round(ms / 1000)}s: ${reason}`, { type: NODE_GROUP_TYPE });
    this.#d.log.warn({ nodeGroup: v.name, backoffMs: ms, reason }, 'node group backs off');
  }

  /** Requested nodes that did not join in time, or failed scaling activities: back off, give the capacity back. */
  async #checkProvisioning(groups: GroupView[]): Promise<void> {
    const now = this.#now();
    for (const v of groups) {
      if (!v.asg || v.problem) continue;
      const m = this.#mem(v.name);
      if (v.upcoming === 0) {
        // everything asked for has joined: the group is healthy again
        if (m.lastScaleUpAt !== undefined) m.failures = 0;
        m.lastScaleUpAt = undefined;
        continue;
      }
      if (m.lastScaleUpAt === undefined || (m.backoffUntil && m.backoffUntil > now)) continue;
      const timeoutMs = specOr(v.ng.spec.scaleUp?.provisionTimeoutSeconds, 900, this.#s.provisionTimeoutMs / 1000) * 1000;
      let failure: string | undefined;
      try {
        const failed = await failedActivities(this.#d.asg, v.asg.name, new Date(m.lastScaleUpAt));
        if (failed.length) failure = `scaling activity failed: ${failed[0]!.description} ${failed[0]!.message}`.trim();
      } catch (err) {
        this.#d.log.debug({ err: String(err) }, 'DescribeScalingActivities failed');
      }
      if (!failure && now - m.lastScaleUpAt > timeoutMs) failure = `nodes did not join within ${Math.round(timeoutMs / 1000)}s (${v.upcoming} of ${v.desired} missing)`;
      if (!failure) continue;
      this.#backoff(v, failure);
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
    if (!v.asg) return;
    const registeredIds = new Set(v.registered.map((n) => instanceIdFromProviderId(n.spec?.providerID)));
    const stray = v.asg.instances.filter((i) => !registeredIds.has(i.id) && !/^Terminat/.test(i.lifecycleState ?? ''));
    let desired = v.desired;
    for (const i of stray) {
      if (desired <= v.min) break;
      try {
        await terminateInstance(this.#d.asg, i.id);
        desired--;
      } catch (err) {
        this.#d.log.warn({ nodeGroup: v.name, instance: i.id, err: String(err) }, 'could not terminate an instance that did not join');
      }
    }
    // Lowering desired only to the number of live instances never lets the ASG pick a joined node to terminate.
    try {
      const now = (await describeGroups(this.#d.asg, [v.asg.name])).get(v.asg.name);
      const live = now?.instances.filter((i) => !/^Terminat/.test(i.lifecycleState ?? '')).length ?? desired;
      desired = now?.desiredCapacity ?? desired;
      const target = Math.max(v.min, live);
      if (target < desired) {
        await setDesiredCapacity(this.#d.asg, v.asg.name, target);
        desired = target;
      }
    } catch (err) {
      this.#d.log.warn({ nodeGroup: v.name, err: String(err) }, 'could not lower the desired capacity after a failed scale-up');
    }
    v.desired = desired;
    v.upcoming = Math.max(0, desired - v.registered.filter(usable).length);
  }

  // ---------------------------------------------------------------------------------- scale-up

  #volumeAffinity(pod: Pod): NodeSelector[] {
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
  #existingNodes(exclude: ReadonlySet<string> = new Set()): ExistingNode[] {
    const out: ExistingNode[] = [];
    for (const n of this.#d.nodes.list()) {
      const name = n.metadata?.name ?? '';
      if (exclude.has(name) || n.spec?.unschedulable || toBeDeleted(n) || n.metadata?.deletionTimestamp || !usable(n)) continue;
      out.push({ node: nodeShape(n), used: this.#usedOn(name) });
    }
    return out;
  }

  #podsOn(node: string): Pod[] {
    return this.#d.pods.byIndex('byNode', node).filter((p) => !isTerminal(p));
  }

  #usedOn(node: string): Resources {
    let used: Resources = {};
    for (const p of this.#podsOn(node)) used = addResources(used, specRequests(p.spec));
    return used;
  }

  /** Returns true when it asked for nodes. */
  async #scaleUp(groups: GroupView[]): Promise<boolean> {
    const unschedulable = this.#d.pods.list().filter((p) => isUnschedulable(p) && !isDaemonSetPod(p));
    scalerMetrics.unschedulablePods.set(unschedulable.length);
    const pending = unschedulable.filter((p) => !this.#d.batchHolds(podKey(p)));
    if (pending.length === 0) return false;
    const byKey = new Map(pending.map((p) => [podKey(p), p]));
    const reqs: PodRequirements[] = pending.map((p) => podRequirements(p, this.#volumeAffinity(p)));
    const planGroups: PlanGroup[] = groups.map((v) => ({ name: v.name, template: v.template, blocked: v.blocked, desired: v.desired, max: v.max, upcoming: v.upcoming, priority: v.priority }));
    const currentNodes = this.#d.nodes.list().length + groups.reduce((n, v) => n + v.upcoming, 0);
    const t0 = performance.now();
    const existingNodes = this.#existingNodes();
    if (this.#d.log.isLevelEnabled('debug')) this.#d.log.debug({ nodes: existingNodes.map((e) => ({ n: e.node.name, alloc: e.node.allocatable, used: e.used })), groups: planGroups.map((g) => ({ n: g.name, d: g.desired, u: g.upcoming })) }, 'plan input');
    const plan = planScaleUp({ pods: reqs, groups: planGroups, nodes: existingNodes, expander: this.#s.expander, maxNodesTotal: this.#s.maxNodesTotal, currentNodes });
    scalerMetrics.planSeconds.observe((performance.now() - t0) / 1000);
    this.lastPlan = plan;
    this.#d.log.info(
      {
        pending: pending.length,
        onExisting: plan.onExisting.length,
        onUpcoming: Object.values(plan.onUpcoming).reduce((n, l) => n + l.length, 0),
        scaleUps: plan.scaleUps.map((s) => `${s.group} ${s.from}->${s.to}`),
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
        await setDesiredCapacity(this.#d.asg, v.asg!.name, su.to);
      } catch (err) {
        const c = classifyAwsError(err);
        this.#d.events.warning(v.ng, Reasons.ScaleUpFailed, `SetDesiredCapacity ${su.from}->${su.to} failed: ${c.code}: ${c.message}`, { type: NODE_GROUP_TYPE });
        // Like a failed launch: the group backs off and its pods are planned elsewhere in the next run.
        // Only throttling is AWS asking us to slow down rather than the group being unable to grow.
        if (c.kind !== 'throttled') {
          this.#backoff(v, `SetDesiredCapacity failed: ${c.code}: ${c.message}`);
          // AWS may have taken the new desired capacity before the launch failed
          await this.#giveBack(v);
        }
        continue;
      }
      asked = true;
      const m = this.#mem(v.name);
      m.lastScaleUpAt = this.#now();
      m.lastScaleUp = { time: rfc3339(new Date(m.lastScaleUpAt)), from: su.from, to: su.to, reason };
      this.#lastScaleUpAny = m.lastScaleUpAt;
      v.desired = su.to;
      v.upcoming += nodes;
      scalerMetrics.scaleUps.inc({ group: v.name });
      scalerMetrics.nodesRequested.inc({ group: v.name }, nodes);
      this.#d.log.info({ nodeGroup: v.name, from: su.from, to: su.to, pods: su.pods.length }, 'scaled up');
      this.#d.events.normal(v.ng, Reasons.ScaledUpGroup, `scale-up: ${v.name} ${su.from}->${su.to} (max ${v.max}): ${reason}`, { type: NODE_GROUP_TYPE });
      const msg = `pod triggered scale-up: [{${v.name} ${su.from}->${su.to} (max: ${v.max})}]`;
      for (const k of su.pods) {
        const p = byKey.get(k);
        if (p) this.#d.events.normal(p, Reasons.TriggeredScaleUp, msg, { type: POD_TYPE });
      }
    }
    for (const u of plan.unhelpable) {
      const p = byKey.get(u.pod);
      if (p) this.#d.events.normal(p, Reasons.NotTriggerScaleUp, `pod didn't trigger scale-up: ${formatReasons(u.reasons)}`, { type: POD_TYPE });
    }
    return asked;
  }

  // ---------------------------------------------------------------------------------- scale-down

  /** Why a pod keeps its node, or undefined when it may be evicted. */
  #blocker(p: Pod): string | undefined {
    const ann = p.metadata?.annotations ?? {};
    const key = podKey(p);
    if (ann[SAFE_TO_EVICT_ANNOTATION] === 'false') return `pod ${key} is annotated ${SAFE_TO_EVICT_ANNOTATION}=false`;
    if (ann[SAFE_TO_EVICT_ANNOTATION] === 'true') return undefined;
    if (!(p.metadata?.ownerReferences ?? []).some((o) => o.controller)) return `pod ${key} has no controller (it would not come back)`;
    const safeLocal = new Set((ann[SAFE_TO_EVICT_LOCAL_VOLUMES_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
    for (const vol of p.spec?.volumes ?? []) {
      const local = vol.hostPath || (vol.emptyDir && vol.emptyDir.medium !== 'Memory');
      if (local && !safeLocal.has(vol.name ?? '')) return `pod ${key} has local storage (volume ${vol.name})`;
    }
    return undefined;
  }

  async #scaleDown(groups: GroupView[]): Promise<void> {
    const now = this.#now();
    const seen = new Set<string>();
    const recentAdd = now - this.#lastScaleUpAny < this.#s.delayAfterAddMs;
    const anyUpcoming = groups.some((v) => v.upcoming > 0);
    const draining = new Set(this.#drains.keys());
    const emptyToRemove: { v: GroupView; node: Node }[] = [];
    let candidate: { v: GroupView; node: Node; pods: Pod[] } | undefined;
    for (const v of groups) {
      if (!v.asg || v.problem || v.ng.spec.scaleDown?.enabled === false) continue;
      const threshold = specOr(v.ng.spec.scaleDown?.utilizationThreshold, 0.5, this.#s.utilizationThreshold);
      const unneededMs = specOr(v.ng.spec.scaleDown?.unneededSeconds, 600, this.#s.unneededMs / 1000) * 1000;
      let removable = v.desired - v.min - [...this.#drains.values()].filter((d) => d.group === v.name).length;
      for (const n of v.registered) {
        const name = n.metadata?.name ?? '';
        seen.add(name);
        if (draining.has(name) || !isReady(n)) continue;
        if (n.metadata?.annotations?.[SCALE_DOWN_DISABLED_ANNOTATION] === 'true') {
          this.#unneededSince.delete(name);
          continue;
        }
        const alloc = toResources(n.status?.allocatable);
        const used = this.#usedOn(name);
        const util = Math.max((used.cpu ?? 0) / (alloc.cpu || 1), (used.memory ?? 0) / (alloc.memory || 1));
        if (util >= threshold) {
          this.#unneededSince.delete(name);
          continue;
        }
        const since = this.#unneededSince.get(name) ?? now;
        this.#unneededSince.set(name, since);
        if (recentAdd || anyUpcoming || now - since < unneededMs || removable <= 0) continue;
        const pods = this.#podsOn(name).filter((p) => !isDaemonSetPod(p) && !isMirror(p));
        const blocked = pods.map((p) => this.#blocker(p)).find((b) => b !== undefined);
        if (blocked) {
          this.#d.log.debug({ node: name, blocked }, 'node is unneeded but cannot be removed');
          continue;
        }
        if (pods.length === 0) {
          if (emptyToRemove.length < this.#s.maxEmptyBulkDelete) {
            emptyToRemove.push({ v, node: n });
            removable--;
          }
          continue;
        }
        if (!candidate && this.#drains.size === 0) {
          // every pod must fit on the other nodes
          const exclude = new Set([name, ...emptyToRemove.map((e) => e.node.metadata?.name ?? '')]);
          const classes = classify(pods.map((p) => podRequirements(p, this.#volumeAffinity(p))));
          const bins = this.#existingNodes(exclude).map((e) => newBin(e.node, e.used));
          firstFit(classes, bins);
          if (classes.every((c) => c.pods.length === 0)) {
            candidate = { v, node: n, pods };
            removable--;
          }
        }
      }
    }
    for (const k of this.#unneededSince.keys()) if (!seen.has(k)) this.#unneededSince.delete(k);
    scalerMetrics.unneededNodes.set(this.#unneededSince.size);

    for (const { v, node } of emptyToRemove) this.#startDrain(v, node, [], 'empty');
    if (candidate) this.#startDrain(candidate.v, candidate.node, candidate.pods, 'underutilized');
  }

  #startDrain(v: GroupView, node: Node, pods: Pod[], why: 'empty' | 'underutilized'): void {
    const name = node.metadata?.name ?? '';
    const instanceId = instanceIdFromProviderId(node.spec?.providerID);
    if (!instanceId) return;
    const drain: Drain = { node: name, group: v.name, instanceId, started: this.#now(), done: Promise.resolve() };
    drain.done = this.#drain(v, node, instanceId, pods, why)
      .catch((err: unknown) => {
        this.#d.log.error({ node: name, err: String(err) }, 'scale-down failed');
        this.#d.events.warning(node, Reasons.ScaleDownFailed, `scale-down of ${name} failed: ${String(err)}`, { type: NODE_TYPE });
      })
      .finally(() => this.#drains.delete(name));
    this.#drains.set(name, drain);
  }

  async #taint(node: Node, on: boolean): Promise<void> {
    const name = node.metadata?.name ?? '';
    const current = (await this.#d.kube.get<Node>({ apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false }, name)) ?? node;
    const others = (current.spec?.taints ?? []).filter((t) => t.key !== TO_BE_DELETED_TAINT);
    const taints = on ? [...others, { key: TO_BE_DELETED_TAINT, value: String(Math.floor(this.#now() / 1000)), effect: 'NoSchedule' as const }] : others;
    await this.#d.kube.patch({ apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false }, { name }, { spec: { unschedulable: on ? true : null, taints } });
  }

  async #evict(p: Pod): Promise<'evicted' | 'blocked' | 'gone'> {
    const ns = p.metadata?.namespace ?? '';
    const name = p.metadata?.name ?? '';
    try {
      await this.#d.kube.request('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/eviction`, {
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
    const name = node.metadata?.name ?? '';
    const start = this.#now();
    this.#d.log.info({ node: name, nodeGroup: v.name, pods: pods.length, why }, 'removing node');
    await this.#taint(node, true);
    try {
      let left = pods;
      let lastBlocked = '';
      while (left.length > 0) {
        const next: Pod[] = [];
        for (const p of left) {
          const r = await this.#evict(p);
          if (r === 'blocked') {
            next.push(p);
            lastBlocked = podKey(p);
          }
        }
        left = next;
        if (left.length === 0) break;
        if (this.#now() - start > this.#s.maxGracefulTerminationMs) throw new Error(`evicting ${lastBlocked} is still refused by a PodDisruptionBudget after ${Math.round(this.#s.maxGracefulTerminationMs / 1000)}s`);
        this.#d.events.normal(node, Reasons.ScaleDown, `waiting for a PodDisruptionBudget to allow evicting ${lastBlocked}`, { type: NODE_TYPE });
        await new Promise((r) => setTimeout(r, this.#s.evictionRetryMs));
      }
      // wait for the evicted pods to be gone from the node
      const uids = new Set(pods.map((p) => p.metadata?.uid));
      while (this.#podsOn(name).some((p) => uids.has(p.metadata?.uid))) {
        if (this.#now() - start > this.#s.maxGracefulTerminationMs) throw new Error('evicted pods did not terminate in time');
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch (err) {
      await this.#taint(node, false).catch(() => undefined);
      throw err;
    }
    await terminateInstance(this.#d.asg, instanceId);
    const m = this.#mem(v.name);
    const from = (await describeGroups(this.#d.asg, [v.asg!.name])).get(v.asg!.name)?.desiredCapacity;
    m.lastScaleDown = { time: rfc3339(new Date(this.#now())), from: (from ?? 0) + 1, to: from ?? 0, reason: `node ${name} was ${why}`, nodes: [name] };
    this.#unneededSince.delete(name);
    scalerMetrics.scaleDowns.inc({ group: v.name, reason: why });
    this.#d.events.normal(node, Reasons.ScaleDown, `node removed by scale-down: ${why}; instance ${instanceId} terminated`, { type: NODE_TYPE });
    this.#d.events.normal(v.ng, why === 'empty' ? Reasons.ScaleDownEmpty : Reasons.ScaleDown, `removed ${name} (${instanceId}): ${why}`, { type: NODE_GROUP_TYPE });
    this.#d.log.info({ node: name, nodeGroup: v.name, instance: instanceId }, 'node removed');
  }

  /** Drains in flight (tests, shutdown). */
  async drainsSettled(): Promise<void> {
    await Promise.all([...this.#drains.values()].map((d) => d.done));
  }

  // ---------------------------------------------------------------------------------- status

  async #writeStatuses(groups: GroupView[]): Promise<void> {
    const now = new Date(this.#now());
    for (const v of groups) {
      const m = this.#mem(v.name);
      const gen = v.ng.metadata.generation;
      const updates: ConditionUpdate[] = [];
      if (v.problem) {
        updates.push({ type: 'Ready', status: false, reason: v.problem.reason, message: v.problem.message, ...(gen !== undefined ? { observedGeneration: gen } : {}) });
        if (m.lastProblem !== v.problem.message) this.#d.events.warning(v.ng, v.problem.reason === 'Conflict' ? Reasons.Conflict : Reasons.InvalidNodeGroup, v.problem.message, { type: NODE_GROUP_TYPE });
        m.lastProblem = v.problem.message;
      } else {
        m.lastProblem = undefined;
        updates.push({ type: 'Ready', status: true, reason: 'Active', message: `ASG ${v.asg?.name} is scaled by the operator`, ...(gen !== undefined ? { observedGeneration: gen } : {}) });
      }
      const backingOff = !!(m.backoffUntil && m.backoffUntil > now.getTime());
      updates.push({ type: 'Backoff', status: backingOff, reason: backingOff ? 'ScaleUpFailed' : 'NoBackoff', message: backingOff ? (m.backoffReason ?? '') : '' });
      const conditions: Condition[] = setConditions(v.ng.status?.conditions as Condition[] | undefined, updates, now);
      const t = v.template;
      const status: Record<string, unknown> = {
        observedGeneration: gen,
        conditions,
        asgArn: v.asg?.arn ?? null,
        minSize: v.min,
        maxSize: v.max,
        desired: v.desired,
        current: v.current,
        ready: v.ready,
        upcoming: v.upcoming,
        lastScaleUp: m.lastScaleUp ?? null,
        lastScaleDown: m.lastScaleDown ?? null,
        backoffUntil: backingOff ? rfc3339(new Date(m.backoffUntil!)) : null,
        backoffReason: backingOff ? (m.backoffReason ?? '') : null,
        nodeTemplate: t
          ? {
              source: t.source,
              instanceTypes: t.instanceTypes,
              zones: t.zones,
              capacity: formatResources(t.capacity),
              allocatable: formatResources(t.allocatable),
              labels: t.labels,
              taints: t.taints.map((x) => ({ key: x.key, value: x.value ?? '', effect: x.effect })),
              maxPods: t.maxPods,
            }
          : null,
      };
      try {
        await this.#d.status.merge(NODE_GROUP_TYPE, v.ng, status);
      } catch (err) {
        if (!isKubeNotFound(err)) this.#d.log.warn({ nodeGroup: v.name, err: String(err) }, 'status write failed');
      }
    }
  }
}

