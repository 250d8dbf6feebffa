// The chart's `flags` values and their JSON schema, from the operator's own flag specs: one declaration,
// so the chart's defaults are the binary's defaults and `helm install` rejects what the binary would.
import { formatDuration, type FlagSpec, type FlagSpecs } from '@kube-iaas/core/runtime';

/**
 * Flags the chart sets itself: where the endpoint listens (the probes need it), the Lease's namespace
 * and identity (the pod's), leader election (two replicas need it), the kubeconfig (in-cluster).
 * `cluster-name` is the top-level `clusterName` value, required.
 */
export const CHART_MANAGED = new Set(['kubeconfig', 'metrics-bind-address', 'leader-elect', 'leader-elect-namespace', 'leader-elect-identity', 'cluster-name']);

export type FlagValue = string | number | boolean | string[];

export function flagDefault(spec: FlagSpec): FlagValue {
  switch (spec.type) {
    case 'duration':
      return formatDuration(spec.default ?? 0);
    case 'list':
      return [...(spec.default ?? [])];
    case 'bool':
      return spec.default ?? false;
    case 'int':
    case 'number':
      return spec.default ?? 0;
    default:
      return spec.default ?? '';
  }
}

const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$';

export function flagSchema(name: string, spec: FlagSpec): Record<string, unknown> {
  const description = spec.description;
  switch (spec.type) {
    case 'duration':
      return { type: 'string', pattern: DURATION_PATTERN, description: `${description} A duration such as 30s, 5m or 1h30m.` };
    case 'list':
      return { type: 'array', items: { type: 'string', minLength: 1 }, description };
    case 'bool':
      return { type: 'boolean', description };
    case 'int':
    case 'number':
      return {
        type: spec.type === 'int' ? 'integer' : 'number',
        ...(spec.min !== undefined ? { minimum: spec.min } : {}),
        ...(spec.max !== undefined ? { maximum: spec.max } : {}),
        description,
      };
    default: {
      const out: Record<string, unknown> = { type: 'string', description };
      if (spec.choices) out.enum = [...spec.choices];
      // JSON schema patterns are ECMA regexes without flags; a flagged one stays the binary's check.
      if (spec.pattern && !spec.pattern.flags) out.pattern = spec.pattern.source;
      if (spec.required) out.minLength = 1;
      void name;
      return out;
    }
  }
}

export function chartFlags(specs: FlagSpecs): { values: Record<string, FlagValue>; schema: Record<string, unknown>; descriptions: Record<string, string> } {
  const values: Record<string, FlagValue> = {};
  const properties: Record<string, unknown> = {};
  const descriptions: Record<string, string> = {};
  for (const name of Object.keys(specs).sort()) {
    if (CHART_MANAGED.has(name)) continue;
    const spec = specs[name]!;
    values[name] = flagDefault(spec);
    properties[name] = flagSchema(name, spec);
    descriptions[name] = spec.description;
  }
  return { values, descriptions, schema: { type: 'object', additionalProperties: false, properties } };
}

/** `flags:` as YAML with each flag's description above it, the way a person reads values.yaml. */
export function flagsYaml(values: Record<string, FlagValue>, descriptions: Record<string, string>): string {
  const lines = ['# Operator flags, passed as --<name>=<value>; defaults are the binary\'s (see the package README).', 'flags:'];
  for (const [k, v] of Object.entries(values)) {
    for (const d of wrap(descriptions[k] ?? '', 100)) lines.push(`  # ${d}`);
    lines.push(`  ${k}: ${Array.isArray(v) ? JSON.stringify(v) : typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  }
  return lines.join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}
