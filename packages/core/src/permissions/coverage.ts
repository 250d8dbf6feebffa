import type { ResourceType } from '../runtime/types.ts';
import type { OperatorPermissions, RbacRule } from './types.ts';

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] ?? '' : '');

/** True when one of `rules` allows `verb` on `resource` (`pods`, `pods/status`) of `group`, for any object name. */
export function rulesAllow(rules: readonly Pick<RbacRule, 'apiGroups' | 'resources' | 'verbs' | 'resourceNames'>[], group: string, resource: string, verb: string): boolean {
  return rules.some(
    (r) =>
      !r.resourceNames?.length &&
      (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
      (r.resources.includes(resource) || r.resources.includes('*')) &&
      (r.verbs.includes(verb) || r.verbs.includes('*')),
  );
}

/**
 * Every watch the operator registered that its declared ClusterRole does not cover (an informer
 * lists and watches its kind cluster-wide), as `list,watch pods` lines; empty when all are covered.
 */
export function uncoveredWatches(perms: Pick<OperatorPermissions, 'rules'>, watched: readonly Pick<ResourceType, 'apiVersion' | 'plural'>[]): string[] {
  const out: string[] = [];
  for (const t of watched) {
    const missing = ['list', 'watch'].filter((v) => !rulesAllow(perms.rules, groupOf(t.apiVersion), t.plural, v));
    if (missing.length) out.push(`${missing.join(',')} ${t.plural}${groupOf(t.apiVersion) ? `.${groupOf(t.apiVersion)}` : ''}`);
  }
  return out;
}
