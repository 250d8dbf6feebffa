import {
  AUTOSCALING_OPTIONS_PREFIX,
  NODE_TEMPLATE_LABEL_PREFIX,
  NODE_TEMPLATE_RESOURCES_PREFIX,
  NODE_TEMPLATE_TAINT_PREFIX,
  type Tags,
} from '@kube-iaas/core';
import type { Taint, TaintEffect } from '../k8s.ts';
import { QuantityError, resourceAmount, type Resources } from '../quantity.ts';

/** A node-template tag the scaler cannot read. The message names the tag; `tag` is its key. */
export class TemplateTagError extends Error {
  override readonly name = 'TemplateTagError';
  readonly tag: string;
  constructor(tag: string, message: string) {
    super(`ASG tag ${tag}: ${message}`);
    this.tag = tag;
  }
}

export interface TemplateTags {
  labels: Record<string, string>;
  taints: Taint[];
  /** Capacity overrides and extended resources, in planner units. */
  resources: Resources;
  /** Per-group autoscaling options (e.g. scale-down-utilization-threshold), raw. */
  options: Record<string, string>;
}

const EFFECTS: ReadonlySet<string> = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function validKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

/**
 * Reads the cluster autoscaler's node-template tags strictly (core's `parseNodeTemplate` skips what
 * it cannot read; a scale-from-zero plan built on a silently dropped taint would be wrong):
 * `…/node-template/label/<key>` = value, `…/node-template/taint/<key>` = `value:Effect`,
 * `…/node-template/resources/<name>` = quantity. Throws `TemplateTagError` naming the first bad tag.
 */
export function parseTemplateTags(tags: Tags): TemplateTags {
  const out: TemplateTags = { labels: {}, taints: [], resources: {}, options: {} };
  for (const tag of Object.keys(tags).sort()) {
    const value = tags[tag]!;
    if (tag.startsWith(NODE_TEMPLATE_LABEL_PREFIX)) {
      const key = tag.slice(NODE_TEMPLATE_LABEL_PREFIX.length);
      if (!validKey(key)) throw new TemplateTagError(tag, `${JSON.stringify(key)} is not a valid label key`);
      if (value.length > 63 || !VALUE.test(value)) throw new TemplateTagError(tag, `${JSON.stringify(value)} is not a valid label value`);
      out.labels[key] = value;
    } else if (tag.startsWith(NODE_TEMPLATE_TAINT_PREFIX)) {
      const key = tag.slice(NODE_TEMPLATE_TAINT_PREFIX.length);
      if (!validKey(key)) throw new TemplateTagError(tag, `${JSON.stringify(key)} is not a valid taint key`);
      const colon = value.lastIndexOf(':');
      const effect = colon >= 0 ? value.slice(colon + 1) : '';
      if (!EFFECTS.has(effect)) {
        throw new TemplateTagError(tag, `value ${JSON.stringify(value)} must be <value>:<effect> with effect NoSchedule, PreferNoSchedule or NoExecute`);
      }
      const v = value.slice(0, colon);
      if (v.length > 63 || !VALUE.test(v)) throw new TemplateTagError(tag, `${JSON.stringify(v)} is not a valid taint value`);
      out.taints.push({ key, value: v, effect: effect as TaintEffect });
    } else if (tag.startsWith(NODE_TEMPLATE_RESOURCES_PREFIX)) {
      const name = tag.slice(NODE_TEMPLATE_RESOURCES_PREFIX.length);
      if (!validKey(name)) throw new TemplateTagError(tag, `${JSON.stringify(name)} is not a valid resource name`);
      try {
        const amount = resourceAmount(name, value);
        if (amount < 0) throw new QuantityError('negative');
        out.resources[name] = amount;
      } catch (err) {
        if (!(err instanceof QuantityError)) throw err;
        throw new TemplateTagError(tag, `${JSON.stringify(value)} is not a quantity (e.g. 2, 500m, 8Gi)`);
      }
    } else if (tag.startsWith(AUTOSCALING_OPTIONS_PREFIX)) {
      out.options[tag.slice(AUTOSCALING_OPTIONS_PREFIX.length)] = value;
    }
  }
  return out;
}
