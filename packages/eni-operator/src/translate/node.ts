// Stage 1, pure: a Node becomes its EniPool — cluster-scoped, named after the Node, owned by it.
// The instance comes from spec.providerID (core's parseProviderId), the type from the well-known
// label; warm targets and cooldown from the operator's cluster-wide defaults.
import type { V1Node } from '@kubernetes/client-node';
import type { EniPool, EniPoolSpec } from '@kube-iaas/crds';
import { PROVIDER_ID_FORM, parseProviderId } from '@kube-iaas/core/aws';
import { ownerReference, resources } from '@kube-iaas/core/runtime';
import { ENI_POOL_RESOURCE, INSTANCE_TYPE_LABELS, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../constants.ts';

export interface PoolDefaults {
  warmEni?: number;
  warmIp?: number;
  minimumIp?: number;
  cooldownSeconds?: number;
  shrinkPolicy?: 'Release' | 'Keep';
  /** Custom networking: subnet for new ENIs by availability zone. */
  subnetsByZone?: Readonly<Record<string, string>>;
  securityGroupIds?: readonly string[];
}

export interface TranslateError {
  field: string;
  message: string;
}

export type TranslateResult = { ok: true; pool: EniPool } | { ok: false; errors: TranslateError[] };

export function instanceTypeOf(node: V1Node): string | undefined {
  for (const l of INSTANCE_TYPE_LABELS) {
    const v = node.metadata?.labels?.[l];
    if (v) return v;
  }
  return undefined;
}

export function translateNode(node: V1Node, defaults: PoolDefaults = {}): TranslateResult {
  const errors: TranslateError[] = [];
  const name = node.metadata?.name;
  if (!name || !node.metadata?.uid) errors.push({ field: 'metadata', message: 'the Node has no name or uid' });
  const parsed = parseProviderId(node.spec?.providerID);
  if (!parsed) errors.push({ field: 'spec.providerID', message: node.spec?.providerID ? `"${node.spec.providerID}" is not ${PROVIDER_ID_FORM}` : 'is not set (the cloud provider or kubelet has not registered the instance yet)' });
  const instanceType = instanceTypeOf(node);
  if (!instanceType) errors.push({ field: `metadata.labels["${INSTANCE_TYPE_LABELS[0]}"]`, message: 'is not set' });
  if (errors.length > 0 || !parsed || !instanceType || !name) return { ok: false, errors };

  const spec: EniPoolSpec = { instanceId: parsed.instanceId, instanceType };
  const subnet = parsed.zone ? defaults.subnetsByZone?.[parsed.zone] : undefined;
  if (subnet) spec.subnetId = subnet;
  if (defaults.securityGroupIds?.length) spec.securityGroupIds = [...defaults.securityGroupIds];
  if (defaults.warmEni !== undefined) spec.warmEni = defaults.warmEni;
  if (defaults.warmIp !== undefined) spec.warmIp = defaults.warmIp;
  if (defaults.minimumIp !== undefined) spec.minimumIp = defaults.minimumIp;
  if (defaults.cooldownSeconds !== undefined) spec.cooldownSeconds = defaults.cooldownSeconds;
  if (defaults.shrinkPolicy !== undefined) spec.shrinkPolicy = defaults.shrinkPolicy;
  return {
    ok: true,
    pool: {
      apiVersion: ENI_POOL_RESOURCE.apiVersion,
      kind: 'EniPool',
      metadata: {
        name,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        ownerReferences: [ownerReference(node, { type: resources.Node })],
      },
      spec,
    },
  };
}

export function formatTranslateErrors(errors: readonly TranslateError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}

/** `zone=subnet-…,zone=subnet-…` (the --eni-subnets flag) to a map; throws naming the bad entry. */
export function parseZoneSubnets(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const [zone, subnet] = item.split('=');
    if (!zone || !subnet || !/^subnet-[0-9a-f]+$/.test(subnet)) throw new Error(`"${item}" is not <zone>=subnet-…`);
    out[zone.trim()] = subnet.trim();
  }
  return out;
}
