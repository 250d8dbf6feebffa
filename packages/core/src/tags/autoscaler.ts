import {
  AUTOSCALING_OPTIONS_PREFIX,
  NODE_TEMPLATE_LABEL_PREFIX,
  NODE_TEMPLATE_RESOURCES_PREFIX,
  NODE_TEMPLATE_TAINT_PREFIX,
} from './keys.ts';
import type { Tags } from './tags.ts';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface NodeTemplateTaint {
  key: string;
  value: string;
  effect: TaintEffect;
}

/**
 * What the cluster autoscaler's node-template tags on an ASG say about nodes the group would
 * launch: labels, taints, extra resources (e.g. `ephemeral-storage`) and per-group autoscaling options.
 * The scaler's scheduling simulation starts from these before any node of the group exists.
 */
export interface NodeTemplate {
  labels: Record<string, string>;
  taints: NodeTemplateTaint[];
  resources: Record<string, string>;
  options: Record<string, string>;
}

const EFFECTS: ReadonlySet<string> = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** Reads node-template tags. Taint values are `value:effect`; a malformed taint tag is skipped. */
export function parseNodeTemplate(tags: Tags): NodeTemplate {
  const out: NodeTemplate = { labels: {}, taints: [], resources: {}, options: {} };
  for (const [key, value] of Object.entries(tags)) {
    if (key.startsWith(NODE_TEMPLATE_LABEL_PREFIX)) out.labels[key.slice(NODE_TEMPLATE_LABEL_PREFIX.length)] = value;
    else if (key.startsWith(NODE_TEMPLATE_RESOURCES_PREFIX)) out.resources[key.slice(NODE_TEMPLATE_RESOURCES_PREFIX.length)] = value;
    else if (key.startsWith(AUTOSCALING_OPTIONS_PREFIX)) out.options[key.slice(AUTOSCALING_OPTIONS_PREFIX.length)] = value;
    else if (key.startsWith(NODE_TEMPLATE_TAINT_PREFIX)) {
      const colon = value.lastIndexOf(':');
      const effect = colon >= 0 ? value.slice(colon + 1) : '';
      if (!EFFECTS.has(effect)) continue;
      out.taints.push({ key: key.slice(NODE_TEMPLATE_TAINT_PREFIX.length), value: value.slice(0, colon), effect: effect as TaintEffect });
    }
  }
  out.taints.sort((a, b) => a.key.localeCompare(b.key));
  return out;
}

/** The node-template tags for an ASG whose nodes carry these labels, taints and resources. */
export function nodeTemplateTags(template: Partial<NodeTemplate>): Tags {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.labels ?? {})) out[`${NODE_TEMPLATE_LABEL_PREFIX}${k}`] = v;
  for (const t of template.taints ?? []) out[`${NODE_TEMPLATE_TAINT_PREFIX}${t.key}`] = `${t.value}:${t.effect}`;
  for (const [k, v] of Object.entries(template.resources ?? {})) out[`${NODE_TEMPLATE_RESOURCES_PREFIX}${k}`] = v;
  for (const [k, v] of Object.entries(template.options ?? {})) out[`${AUTOSCALING_OPTIONS_PREFIX}${k}`] = v;
  return out;
}
