import { NodeTemplateTagError, parseNodeTemplate, type Tags } from '@kube-iaas/core/tags';
import type { V1Taint as Taint } from '@kubernetes/client-node';
import { resourceAmount, type Resources } from '../quantity.ts';

/** A node-template tag the scaler cannot read (core's error): the message names the tag; `tag` is its key. */
export { NodeTemplateTagError as TemplateTagError };

export interface TemplateTags {
  labels: Record<string, string>;
  taints: Taint[];
  /** Capacity overrides and extended resources, in planner units. */
  resources: Resources;
  /** Per-group autoscaling options (e.g. scale-down-utilization-threshold), raw. */
  options: Record<string, string>;
}

/**
 * Reads the cluster autoscaler's node-template tags with core's strict parser: a scale-from-zero plan
 * built on a silently dropped taint would be wrong. Throws `TemplateTagError` naming the first bad tag.
 */
export function parseTemplateTags(tags: Tags): TemplateTags {
  const t = parseNodeTemplate(tags, { strict: true });
  const resources: Resources = {};
  // strict parsing already checked that every value is a non-negative quantity
  for (const [name, q] of Object.entries(t.resources)) resources[name] = resourceAmount(name, q);
  return { labels: t.labels, taints: t.taints.map((x) => ({ key: x.key, value: x.value, effect: x.effect })), resources, options: t.options };
}
