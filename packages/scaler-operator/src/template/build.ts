import type { InstanceTypeFacts } from '@kube-iaas/core/instance-types';
import type { Tags } from '@kube-iaas/core/tags';
import type { NodeTemplate as NodeTemplateSpec } from '@kube-iaas/crds';
import {
  LABEL_ARCH,
  LABEL_INSTANCE_TYPE,
  LABEL_INSTANCE_TYPE_BETA,
  LABEL_OS,
  LABEL_REGION,
  LABEL_REGION_BETA,
  LABEL_ZONE,
  LABEL_ZONE_BETA,
} from '../constants.ts';
import type { V1PodSpec as PodSpec, V1Taint as Taint } from '@kubernetes/client-node';
import { placementMismatch, type NodeShape } from '../plan/match.ts';
import { specRequests } from '../plan/pod.ts';
import { QuantityError, addResources, subtractResources, toResources, type Resources } from '../quantity.ts';
import { parseTemplateTags, TemplateTagError } from './tags.ts';

/** Where a group's instance types came from. */
export type LaunchSource = 'launch-template' | 'launch-configuration' | 'mixed-instances' | 'spec';

/** What the ASG's launch template / launch configuration / mixed-instances policy says (read by the AWS layer). */
export interface LaunchInfo {
  source: LaunchSource;
  /** Every instance type the group may launch (all overrides of a mixed-instances policy). */
  instanceTypes: string[];
  /** Size of the root volume when the launch template / configuration sets one. */
  rootVolumeGiB?: number | undefined;
}

/** A node the group would launch, as the planner sees it. */
export interface NodeTemplate extends NodeShape {
  group: string;
  /** The type planned with: the smallest of `instanceTypes` (what AWS may hand out in the worst case). */
  instanceType: string;
  instanceTypes: string[];
  zones: string[];
  source: LaunchSource;
  capacity: Resources;
  /** Capacity minus reservations (before DaemonSets). */
  nodeAllocatable: Resources;
  /** What DaemonSets that would run on the node request. */
  daemonSetOverhead: Resources;
  daemonSets: string[];
  /** Allocatable left for pending pods: capacity − reservations − DaemonSet overhead. */
  allocatable: Resources;
  maxPods: number;
  options: Record<string, string>;
}

/** A node template cannot be built; `tag` names the ASG tag at fault, when one is. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly tag: string | undefined;
  constructor(message: string, tag?: string) {
    super(message);
    this.tag = tag;
  }
}

export interface DaemonSetSpec {
  /** `namespace/name`. */
  key: string;
  podSpec: PodSpec;
}

export interface TemplateInput {
  /** NodeGroup / ASG name. */
  group: string;
  region: string;
  /** The ASG's availability zones. */
  zones: readonly string[];
  launch: LaunchInfo;
  facts: ReadonlyMap<string, InstanceTypeFacts>;
  asgTags: Tags;
  /** spec.nodeTemplate of the NodeGroup: what it sets wins. */
  spec?: NodeTemplateSpec | undefined;
  /** The kubelets' kube-reserved + system-reserved + eviction threshold (operator flags). */
  reserved: Resources;
  /** Ephemeral storage of a node when the launch template sets no root volume size. */
  defaultEphemeralStorage: number;
  daemonSets?: readonly DaemonSetSpec[];
}

const ARCH: Record<string, string> = { x86_64: 'amd64', arm64: 'arm64', i386: '386', x86_64_mac: 'amd64', arm64_mac: 'arm64' };

function specResources(what: string, map: Readonly<Record<string, string | number>> | undefined): Resources {
  try {
    return toResources(map);
  } catch (err) {
    if (err instanceof QuantityError) throw new TemplateError(`spec.nodeTemplate.${what}: ${err.message}`);
    throw err;
  }
}

/**
 * The node a group would launch (pure; the AWS layer reads the launch template, the instance-type
 * facts and the tags). Precedence, lowest first: instance-type facts (vCPU, memory, max-pods from
 * core's ENI formula) → root volume / default ephemeral storage → node-template tags → the NodeGroup's
 * spec.nodeTemplate. Allocatable is capacity − reservations − DaemonSets that would run on it.
 * Throws `TemplateError` (naming the tag for a malformed node-template tag).
 */
export function buildNodeTemplate(input: TemplateInput): NodeTemplate {
  const spec = input.spec ?? {};
  const types = spec.instanceTypes?.length ? [...spec.instanceTypes] : [...input.launch.instanceTypes];
  const source: LaunchSource = spec.instanceTypes?.length ? 'spec' : input.launch.source;
  if (types.length === 0) throw new TemplateError(`group ${input.group}: its ${input.launch.source} names no instance type; set spec.nodeTemplate.instanceTypes`);
  const facts: InstanceTypeFacts[] = [];
  for (const t of types) {
    const f = input.facts.get(t);
    if (!f) throw new TemplateError(`group ${input.group}: instance type ${t} is not known to DescribeInstanceTypes`);
    facts.push(f);
  }
  // Plan with the smallest type: whichever type AWS hands out, the pods fit.
  const smallest = [...facts].sort((a, b) => a.vcpus - b.vcpus || a.memoryMiB - b.memoryMiB || a.maxPods - b.maxPods || a.instanceType.localeCompare(b.instanceType))[0]!;

  let tagged;
  try {
    tagged = parseTemplateTags(input.asgTags);
  } catch (err) {
    if (err instanceof TemplateTagError) throw new TemplateError(`group ${input.group}: ${err.message}`, err.tag);
    throw err;
  }

  const maxPods = spec.maxPods ?? smallest.maxPods;
  let capacity: Resources = {
    cpu: smallest.vcpus * 1000,
    memory: smallest.memoryMiB * 2 ** 20,
    pods: maxPods,
    'ephemeral-storage': input.launch.rootVolumeGiB !== undefined ? input.launch.rootVolumeGiB * 2 ** 30 : input.defaultEphemeralStorage,
  };
  capacity = { ...capacity, ...tagged.resources, ...specResources('resources', spec.resources) };
  if (spec.maxPods !== undefined) capacity.pods = spec.maxPods;

  const zones = [...(spec.zones?.length ? spec.zones : input.zones)].sort();
  const labels: Record<string, string> = {
    [LABEL_OS]: 'linux',
    [LABEL_ARCH]: ARCH[smallest.architectures[0] ?? 'x86_64'] ?? 'amd64',
    [LABEL_INSTANCE_TYPE]: smallest.instanceType,
    [LABEL_INSTANCE_TYPE_BETA]: smallest.instanceType,
    [LABEL_REGION]: input.region,
    [LABEL_REGION_BETA]: input.region,
  };
  if (zones.length === 1) labels[LABEL_ZONE] = labels[LABEL_ZONE_BETA] = zones[0]!;
  Object.assign(labels, tagged.labels, spec.labels ?? {});

  const taintMap = new Map<string, Taint>();
  for (const t of [...tagged.taints, ...(spec.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? '', effect: t.effect }))]) taintMap.set(`${t.key}:${t.effect}`, t);
  const taints = [...taintMap.values()].sort((a, b) => a.key.localeCompare(b.key) || a.effect.localeCompare(b.effect));

  const reserved = spec.reserved ? specResources('reserved', spec.reserved) : input.reserved;
  const nodeAllocatable = subtractResources(capacity, reserved);

  const shape: NodeShape = { name: `template-${input.group}`, labels, zones, taints, allocatable: nodeAllocatable };
  let overhead: Resources = {};
  const daemonSets: string[] = [];
  for (const ds of input.daemonSets ?? []) {
    const req = {
      key: ds.key,
      requests: specRequests(ds.podSpec),
      nodeSelector: ds.podSpec.nodeSelector ?? {},
      affinity: ds.podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
      tolerations: ds.podSpec.tolerations ?? [],
      volumeAffinity: [],
    };
    if (placementMismatch(req, shape)) continue;
    overhead = addResources(overhead, req.requests);
    daemonSets.push(ds.key);
  }
  const allocatable = subtractResources(nodeAllocatable, overhead);

  return {
    group: input.group,
    name: shape.name,
    instanceType: smallest.instanceType,
    instanceTypes: types,
    zones,
    source,
    labels,
    taints,
    capacity,
    nodeAllocatable,
    daemonSetOverhead: overhead,
    daemonSets: daemonSets.sort(),
    allocatable,
    maxPods: capacity.pods ?? maxPods,
    options: tagged.options,
  };
}
