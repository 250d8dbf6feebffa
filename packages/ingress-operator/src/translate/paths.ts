// Pure: a CRD validator error path (`spec.rules[3].paths`) traced back to the member Ingress that
// contributed that part of the spec and the annotation the user wrote, and taken out of a spec.
import { ANNOTATIONS } from '../constants.ts';
import { SETTING_ANNOTATION, type GroupSettings } from './member.ts';

/** Maps a validator path back to the member that contributed that part of the spec. */
export interface Attribution {
  rules: string[];
  targetGroups: string[];
  listeners: string[];
  settings: Map<keyof GroupSettings, string>;
  /** The last applied member in merge order (left out when a quota is exceeded). */
  last?: string | undefined;
}

/** The member a validator error path (`spec.rules[3].paths`) belongs to, if any. */
export function memberOfPath(path: string, a: Attribution): string | undefined {
  const m = /^spec\.(rules|targetGroups|listeners)\[(\d+)\]/.exec(path);
  if (m) return a[m[1] as 'rules' | 'targetGroups' | 'listeners'][Number(m[2])];
  // Too many rules, target groups or listeners (ALB quotas): the last member to add some is left out.
  const whole = /^spec\.(rules|targetGroups|listeners)$/.exec(path);
  if (whole) return a.last;
  const s = /^spec\.(\w+)/.exec(path);
  const key = s?.[1] as keyof GroupSettings | undefined;
  return key ? a.settings.get(key) : undefined;
}

export function fieldOfPath(path: string): string {
  const s = /^spec\.(\w+)/.exec(path);
  const key = s?.[1] as keyof GroupSettings | undefined;
  if (key && key in SETTING_ANNOTATION) return SETTING_ANNOTATION[key];
  // A listener's parts come from different annotations: each is reported under its own name.
  if (/^spec\.listeners\[\d+\]\.certificateArns/.test(path)) return ANNOTATIONS.certificateArn;
  if (/^spec\.listeners\[\d+\]\.sslPolicy/.test(path)) return ANNOTATIONS.sslPolicy;
  if (/^spec\.listeners\[\d+\]\.defaultAction/.test(path)) return 'spec.defaultBackend';
  if (/^spec\.listeners/.test(path)) return ANNOTATIONS.listenPorts;
  if (/^spec\.targetGroups\[\d+\]\.healthCheck/.test(path)) return 'alb.ingress.kubernetes.io/healthcheck-*';
  if (/^spec\.targetGroups\[\d+\]\.attributes/.test(path)) return ANNOTATIONS.targetGroupAttributes;
  if (/^spec\.rules/.test(path)) return 'spec.rules';
  return path;
}

/** Removes what a validator path (`spec.listeners[0].sslPolicy`, `spec.inboundCidrs[2]`) points at: a whole property. */
export function dropPath(spec: Record<string, unknown>, path: string): boolean {
  const steps = path.replace(/^spec\.?/, '').match(/[^.[\]]+/g) ?? [];
  while (steps.length > 0 && /^\d+$/.test(steps[steps.length - 1] ?? '')) steps.pop();
  const last = steps.pop();
  let at: unknown = spec;
  for (const s of steps) at = (at as Record<string, unknown> | undefined)?.[s];
  if (!last || typeof at !== 'object' || at === null || !(last in at)) return false;
  delete (at as Record<string, unknown>)[last];
  return true;
}
