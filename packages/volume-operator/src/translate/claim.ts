// PVC + StorageClass → AwsVolume: the operator's first stage, pure. The caller looks up the selected
// node's zone and the cluster's zones; everything else comes from the two objects.
import { createHash } from 'node:crypto';
import type { AwsVolume, AwsVolumeSpec } from '@kube-iaas/crds';
import { AWS_VOLUME_TYPE, CLAIM_NAME_LABEL, CLAIM_NAMESPACE_LABEL, DRIVER_NAME, SELECTED_NODE_ANNOTATION, ZONE_LABELS } from '../constants.ts';
import { checkRenderedTags, parseParameters, renderTags, resolveVolumeSettings, type ParameterError } from './parameters.ts';
import { parseQuantity, roundUpGiB } from './quantity.ts';
import type { PersistentVolumeClaim, StorageClass, TopologySelectorTerm } from './types.ts';

export interface ClaimContext {
  /** Zones that have a subnet tagged for this cluster, sorted; where volumes may be created. */
  clusterZones: readonly string[];
  /** Zone of the node named by the claim's selected-node annotation (looked up by the caller). */
  selectedNodeZone?: string | undefined;
}

export type ClaimTranslation =
  | { kind: 'volume'; volume: AwsVolume }
  /** Not ours, or not yet: no event, nothing to do. */
  | { kind: 'skip'; reason: string }
  /** Bad input: a ProvisioningFailed Warning naming each parameter and limit; no AWS call. */
  | { kind: 'invalid'; errors: ParameterError[] };

/** The name of the PV (and AwsVolume) a claim produces: `pvc-<claim uid>`, as the external-provisioner names it. */
export function volumeNameForClaim(pvc: PersistentVolumeClaim): string {
  return `pvc-${pvc.metadata?.uid ?? ''}`;
}

const LABEL_VALUE_MAX = 63;
const LABEL_HASH_CHARS = 16;

/**
 * A claim's namespace or name as a label value. Label values are limited to 63 characters while a
 * claim's name may have 253, so a longer name becomes its first 46 characters, `-` and the first 16 hex
 * digits of its SHA-256 (63 in all): still readable, distinct for distinct names, and accepted by the
 * API server. The labels are for `kubectl get -l`; the exact link is `spec.claimRef` (a selectable field).
 */
export function claimLabelValue(value: string): string {
  if (value.length <= LABEL_VALUE_MAX) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, LABEL_HASH_CHARS);
  return `${value.slice(0, LABEL_VALUE_MAX - LABEL_HASH_CHARS - 1)}-${hash}`;
}

/** True when the claim asks our provisioner (by its class, or by the PV controller's annotation). */
export function isOurClass(sc: StorageClass | undefined): boolean {
  return sc?.provisioner === DRIVER_NAME;
}

/** The zones a StorageClass's allowedTopologies permit, or undefined when it sets none. */
export function allowedZones(terms: readonly TopologySelectorTerm[] | undefined): string[] | undefined {
  if (!terms?.length) return undefined;
  const zones = new Set<string>();
  let constrained = false;
  for (const t of terms) {
    for (const e of t.matchLabelExpressions ?? []) {
      if (!(ZONE_LABELS as readonly string[]).includes(e.key)) continue;
      constrained = true;
      for (const v of e.values ?? []) zones.add(v);
    }
  }
  return constrained ? [...zones].sort() : undefined;
}

/** A stable choice among `zones` for a volume name (FNV-1a), so Immediate volumes spread over zones. */
export function spreadZone(name: string, zones: readonly string[]): string | undefined {
  if (zones.length === 0) return undefined;
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return [...zones].sort()[h % zones.length];
}

const SUPPORTED_ACCESS_MODES = new Set(['ReadWriteOnce', 'ReadWriteOncePod']);

/**
 * Translates a claim of our class into the AwsVolume that provisions it: size rounded up to whole
 * GiB, type/IOPS/throughput/encryption from the class, zone from the selected node
 * (WaitForFirstConsumer) or allowedTopologies / a spread over the cluster's zones (Immediate),
 * reclaim policy from the class, extra tags from tagSpecification_N, claimRef with the claim's UID.
 *
 * No ownerReference to the claim: a cluster-scoped object may not name a namespaced owner (the
 * garbage collector reports OwnerRefInvalidNamespace and never collects it), and with reclaim
 * Retain the AwsVolume must outlive its claim. spec.claimRef (with the UID) and the claim labels
 * are the link.
 */
export function translateClaim(pvc: PersistentVolumeClaim, sc: StorageClass | undefined, ctx: ClaimContext): ClaimTranslation {
  if (!sc) return { kind: 'skip', reason: 'storage class not found' };
  if (!isOurClass(sc)) return { kind: 'skip', reason: `storage class ${sc.metadata?.name} is provisioned by ${sc.provisioner}` };
  if (pvc.spec?.volumeName) return { kind: 'skip', reason: 'claim is already bound to a volume' };
  if (pvc.metadata?.deletionTimestamp) return { kind: 'skip', reason: 'claim is being deleted' };
  if (pvc.spec?.dataSource || pvc.spec?.dataSourceRef) {
    return { kind: 'invalid', errors: [{ parameter: 'dataSource', message: 'dataSource: snapshots and clones are not supported by ebs.kube-iaas.dev yet' }] };
  }
  const waitForConsumer = sc.volumeBindingMode === 'WaitForFirstConsumer';
  const selectedNode = pvc.metadata?.annotations?.[SELECTED_NODE_ANNOTATION];
  if (waitForConsumer && !selectedNode) return { kind: 'skip', reason: 'waiting for the scheduler to select a node (WaitForFirstConsumer)' };

  const errors: ParameterError[] = [];
  const params = parseParameters(sc.parameters);
  if (!params.ok) errors.push(...params.errors);

  const badModes = (pvc.spec?.accessModes ?? []).filter((m) => !SUPPORTED_ACCESS_MODES.has(m));
  if (badModes.length) {
    errors.push({ parameter: 'accessModes', message: `accessModes: ${badModes.join(', ')} not supported; an EBS volume attaches to one node (ReadWriteOnce, ReadWriteOncePod)` });
  }
  const requested = pvc.spec?.resources?.requests?.storage;
  const bytes = parseQuantity(requested);
  if (bytes === undefined || bytes <= 0) {
    errors.push({ parameter: 'resources.requests.storage', message: `resources.requests.storage: ${JSON.stringify(requested ?? null)} is not a positive size` });
  }

  // Zone.
  const allowed = allowedZones(sc.allowedTopologies);
  let zone: string | undefined;
  if (selectedNode) {
    zone = ctx.selectedNodeZone;
    if (!zone) errors.push({ parameter: SELECTED_NODE_ANNOTATION, message: `${SELECTED_NODE_ANNOTATION}: node ${selectedNode} has no zone label (topology.kubernetes.io/zone) or does not exist` });
    else if (allowed && !allowed.includes(zone)) {
      errors.push({ parameter: 'allowedTopologies', message: `allowedTopologies: the selected node ${selectedNode} is in ${zone}, which the class does not allow (${allowed.join(', ')})` });
    }
  } else {
    const candidates = (allowed ?? ctx.clusterZones).filter((z) => ctx.clusterZones.includes(z));
    zone = spreadZone(volumeNameForClaim(pvc), candidates);
  }
  if (zone && !ctx.clusterZones.includes(zone)) {
    errors.push({ parameter: allowed ? 'allowedTopologies' : 'zone', message: `zone ${zone} has no subnet tagged for this cluster (cluster zones: ${ctx.clusterZones.join(', ') || 'none'})` });
  } else if (!zone && !selectedNode) {
    errors.push({
      parameter: 'allowedTopologies',
      message: allowed
        ? `allowedTopologies: none of ${allowed.join(', ')} has a subnet tagged for this cluster (cluster zones: ${ctx.clusterZones.join(', ') || 'none'})`
        : 'no zone has a subnet tagged for this cluster',
    });
  }

  if (!params.ok || bytes === undefined || bytes <= 0) return { kind: 'invalid', errors };
  const sizeGiB = roundUpGiB(bytes);
  const settings = resolveVolumeSettings(params.value, sizeGiB);
  if (!settings.ok) errors.push(...settings.errors);
  if (errors.length || !settings.ok || !zone) return { kind: 'invalid', errors };

  const name = volumeNameForClaim(pvc);
  const namespace = pvc.metadata?.namespace ?? 'default';
  const claimName = pvc.metadata?.name ?? '';
  const s = settings.value;
  const spec: AwsVolumeSpec = {
    availabilityZone: zone,
    sizeGiB: s.sizeGiB,
    volumeType: s.volumeType,
    encrypted: s.encrypted,
    fsType: s.fsType,
    reclaimPolicy: sc.reclaimPolicy === 'Retain' ? 'Retain' : 'Delete',
    claimRef: { namespace, name: claimName, ...(pvc.metadata?.uid ? { uid: pvc.metadata.uid } : {}) },
  };
  if (s.iops !== undefined) spec.iops = s.iops;
  if (s.throughput !== undefined) spec.throughput = s.throughput;
  if (s.kmsKeyId !== undefined) spec.kmsKeyId = s.kmsKeyId;
  const tags = renderTags(params.value.tags, { pvcName: claimName, pvcNamespace: namespace, pvName: name });
  const tagErrors = checkRenderedTags(sc.parameters, tags);
  if (tagErrors.length) return { kind: 'invalid', errors: tagErrors };
  if (Object.keys(tags).length) spec.tags = tags;
  return {
    kind: 'volume',
    volume: {
      apiVersion: AWS_VOLUME_TYPE.apiVersion as AwsVolume['apiVersion'],
      kind: 'AwsVolume',
      metadata: { name, labels: { [CLAIM_NAMESPACE_LABEL]: claimLabelValue(namespace), [CLAIM_NAME_LABEL]: claimLabelValue(claimName) } },
      spec,
    },
  };
}

/**
 * The size an AwsVolume should have for a bound claim that asks for more (expansion): the request
 * rounded up, never less than `current` (EBS volumes do not shrink). Undefined when unchanged.
 */
export function expandedSizeGiB(pvc: PersistentVolumeClaim, current: number): number | undefined {
  const bytes = parseQuantity(pvc.spec?.resources?.requests?.storage);
  if (bytes === undefined) return undefined;
  const want = roundUpGiB(bytes);
  return want > current ? want : undefined;
}
