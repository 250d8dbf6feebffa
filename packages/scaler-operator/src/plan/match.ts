import { ZONE_LABELS } from '../constants.ts';
import type { V1NodeSelector as NodeSelector, V1NodeSelectorRequirement as NodeSelectorRequirement, V1NodeSelectorTerm as NodeSelectorTerm, V1Taint as Taint, V1Toleration as Toleration } from '@kubernetes/client-node';
import { formatAmount, type Resources } from '../quantity.ts';

/**
 * A node as the fit check sees it: a real Node, or the template of a node a group would launch. A
 * template of a group spanning several zones has `zones`: the new node lands in one of them, and
 * which one is AWS's choice, so a zone constraint fits only if it holds in every one of them.
 */
export interface NodeShape {
  name: string;
  labels: Readonly<Record<string, string>>;
  zones?: readonly string[] | undefined;
  taints: readonly Taint[];
  allocatable: Readonly<Resources>;
}

/** What scheduling a pod needs, extracted once from the Pod (see `podRequirements`). */
export interface PodRequirements {
  /** `namespace/name`. */
  key: string;
  /** Requests in planner units, `pods: 1` included. */
  requests: Resources;
  nodeSelector: Readonly<Record<string, string>>;
  /** requiredDuringSchedulingIgnoredDuringExecution (terms are ORed). */
  affinity?: NodeSelector | undefined;
  tolerations: readonly Toleration[];
  /** Node affinity of each bound PersistentVolume (e.g. the EBS volume's zone); all must hold. */
  volumeAffinity: readonly NodeSelector[];
  priority?: number | undefined;
}

export function matchRequirement(req: NodeSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const v = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const a = Number.parseInt(v!, 10);
      const b = Number.parseInt(values[0]!, 10);
      if (!/^-?\d+$/.test(v!) || !/^-?\d+$/.test(values[0]!) || Number.isNaN(a) || Number.isNaN(b)) return false;
      return req.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields do; an empty term matches nothing (as in Kubernetes). */
export function matchTerm(term: NodeSelectorTerm, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const e of exprs) if (!matchRequirement(e, labels)) return false;
  // matchFields supports metadata.name only, like the scheduler.
  for (const f of fields) if (f.key !== 'metadata.name' || !matchRequirement({ ...f, key: 'name' }, { name: nodeName })) return false;
  return true;
}

export function matchNodeSelector(sel: NodeSelector, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  if (sel.nodeSelectorTerms.length === 0) return true;
  return sel.nodeSelectorTerms.some((t) => matchTerm(t, labels, nodeName));
}

/** The label sets a node may end up with: one per possible zone of a multi-AZ template. */
export function labelVariants(node: NodeShape): Readonly<Record<string, string>>[] {
  if (!node.zones || node.zones.length <= 1) {
    if (node.zones?.length === 1) {
      const out: Record<string, string> = { ...node.labels };
      for (const k of ZONE_LABELS) out[k] = node.zones[0]!;
      return [out];
    }
    return [node.labels];
  }
  return node.zones.map((z) => {
    const out: Record<string, string> = { ...node.labels };
    for (const k of ZONE_LABELS) out[k] = z;
    return out;
  });
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** The first taint (NoSchedule / NoExecute) none of the tolerations tolerate. */
export function untoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!tolerations.some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

/** Why a pod can never run on this node, regardless of what else runs there; undefined when it can. */
export function placementMismatch(pod: PodRequirements, node: NodeShape): string | undefined {
  const variants = labelVariants(node);
  for (const labels of variants) {
    for (const [k, v] of Object.entries(pod.nodeSelector)) {
      if (labels[k] !== v) return `node selector ${k}=${v} does not match (node has ${k}${Object.hasOwn(labels, k) ? `=${labels[k]}` : ' unset'})`;
    }
    if (pod.affinity && !matchNodeSelector(pod.affinity, labels, node.name)) {
      return variants.length > 1 ? `required node affinity does not hold in every zone of the group (${node.zones!.join(', ')})` : 'required node affinity does not match';
    }
    for (const va of pod.volumeAffinity) {
      if (!matchNodeSelector(va, labels, node.name)) {
        return `a bound volume's node affinity does not match (volume zone vs. node zone${variants.length > 1 ? `s ${node.zones!.join(', ')}` : ` ${labels['topology.kubernetes.io/zone'] ?? 'unknown'}`})`;
      }
    }
  }
  const taint = untoleratedTaint(node.taints, pod.tolerations);
  if (taint) return `untolerated taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
  return undefined;
}

/** The first resource of `requests` that does not fit in `free`; unknown resources have 0 free. */
export function insufficientResource(requests: Readonly<Resources>, free: Readonly<Resources>): { resource: string; need: number; free: number } | undefined {
  for (const [r, need] of Object.entries(requests)) {
    if (need <= 0) continue;
    const have = free[r] ?? 0;
    if (need > have) return { resource: r, need, free: have };
  }
  return undefined;
}

/** Why a pod's requests exceed an empty node of this shape; undefined when they fit. */
export function resourceMismatch(pod: PodRequirements, node: NodeShape): string | undefined {
  const r = insufficientResource(pod.requests, node.allocatable);
  if (r) return `insufficient ${r.resource} (pod requests ${formatAmount(r.resource, r.need)}, a new node has ${formatAmount(r.resource, r.free)} allocatable)`;
  return undefined;
}

/** Why a pod would not fit on an empty node of this shape; undefined when it fits. */
export function fitMismatch(pod: PodRequirements, node: NodeShape): string | undefined {
  return placementMismatch(pod, node) ?? resourceMismatch(pod, node);
}
