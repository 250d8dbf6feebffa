import {
  AUTOSCALING_OPTIONS_PREFIX,
  NODE_TEMPLATE_LABEL_PREFIX,
  NODE_TEMPLATE_RESOURCES_PREFIX,
  NODE_TEMPLATE_TAINT_PREFIX,
} from './keys.ts';
import type { Tags } from './tags.ts';
import { assertTagLimits } from './limits.ts';
import { QuantityError, parseQuantity } from '../quantity.ts';

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
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A Kubernetes label / taint key / resource name: `[prefix/]name`. */
function validKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

const validValue = (v: string): boolean => v.length <= 63 && VALUE.test(v);

/** A node-template tag that cannot be read. The message names the tag; `tag` is its key. */
export class NodeTemplateTagError extends Error {
  override readonly name = 'NodeTemplateTagError';
  readonly tag: string;
  constructor(tag: string, message: string) {
    super(`ASG tag ${tag}: ${message}`);
    this.tag = tag;
  }
}

export interface ParseNodeTemplateOptions {
  /**
   * Throw `NodeTemplateTagError` naming the first bad tag (invalid label or taint key or value, a taint
   * without a known effect, a resource value that is not a non-negative quantity) instead of skipping
   * it. A scaler planning scale-from-zero wants this: a silently dropped taint makes a wrong plan.
   */
  strict?: boolean;
}

/**
 * Reads node-template tags: `…/label/<key>` = value, `…/taint/<key>` = `value:Effect`,
 * `…/resources/<name>` = quantity, `…/autoscaling-options/<name>` = option. Lenient by default (a
 * malformed taint tag is skipped, like the cluster autoscaler does); `{ strict: true }` refuses bad tags.
 */
export function parseNodeTemplate(tags: Tags, opts: ParseNodeTemplateOptions = {}): NodeTemplate {
  const out: NodeTemplate = { labels: {}, taints: [], resources: {}, options: {} };
  const strict = opts.strict === true;
  const bad = (tag: string, message: string): void => {
    if (strict) throw new NodeTemplateTagError(tag, message);
  };
  // sorted, so that "the first bad tag" is the same on every run
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key]!;
    if (key.startsWith(NODE_TEMPLATE_LABEL_PREFIX)) {
      const name = key.slice(NODE_TEMPLATE_LABEL_PREFIX.length);
      if (!validKey(name)) bad(key, `${JSON.stringify(name)} is not a valid label key`);
      else if (!validValue(value)) bad(key, `${JSON.stringify(value)} is not a valid label value`);
      out.labels[name] = value;
    } else if (key.startsWith(NODE_TEMPLATE_RESOURCES_PREFIX)) {
      const name = key.slice(NODE_TEMPLATE_RESOURCES_PREFIX.length);
      if (!validKey(name)) bad(key, `${JSON.stringify(name)} is not a valid resource name`);
      else if (strict) {
        let ok: boolean;
        try {
          ok = parseQuantity(value) >= 0;
        } catch (err) {
          if (!(err instanceof QuantityError)) throw err;
          ok = false;
        }
        if (!ok) bad(key, `${JSON.stringify(value)} is not a quantity (e.g. 2, 500m, 8Gi)`);
      }
      out.resources[name] = value;
    } else if (key.startsWith(AUTOSCALING_OPTIONS_PREFIX)) {
      out.options[key.slice(AUTOSCALING_OPTIONS_PREFIX.length)] = value;
    } else if (key.startsWith(NODE_TEMPLATE_TAINT_PREFIX)) {
      const name = key.slice(NODE_TEMPLATE_TAINT_PREFIX.length);
      const colon = value.lastIndexOf(':');
      const effect = colon >= 0 ? value.slice(colon + 1) : '';
      const v = colon >= 0 ? value.slice(0, colon) : value;
      if (!EFFECTS.has(effect)) {
        bad(key, `value ${JSON.stringify(value)} must be <value>:<effect> with effect NoSchedule, PreferNoSchedule or NoExecute`);
        continue;
      }
      if (!validKey(name)) bad(key, `${JSON.stringify(name)} is not a valid taint key`);
      else if (!validValue(v)) bad(key, `${JSON.stringify(v)} is not a valid taint value`);
      out.taints.push({ key: name, value: v, effect: effect as TaintEffect });
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
  // A label key can be 317 characters; the tag key it becomes cannot be shortened (readers parse it).
  assertTagLimits(out, 'node template');
  return out;
}
