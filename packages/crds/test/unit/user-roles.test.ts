import { describe, expect, it } from 'vitest';
import { AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW, KIND_SOURCES, userRoles } from '../../src/index.ts';

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

describe('userRoles', () => {
  it.each(KIND_SOURCES.map((s) => [s.kind, s] as const))('%s: view for everyone, write only for namespaced kinds', (_kind, src) => {
    const roles = userRoles(src);
    const aggregatedTo = (label: string) => roles.filter((r) => r.metadata.labels[label] === 'true');
    const writers = roles.filter((r) => r.rules.some((rule) => rule.verbs.some((v) => WRITE_VERBS.includes(v))));
    expect(aggregatedTo(AGGREGATE_TO_VIEW).map((r) => r.metadata.name)).toEqual([`kube-iaas:${src.plural}:view`]);
    expect(aggregatedTo(AGGREGATE_TO_VIEW).flatMap((r) => r.rules.flatMap((x) => x.verbs))).not.toContain('create');
    if (src.scope === 'Namespaced') {
      expect(writers.map((r) => r.metadata.name)).toEqual([`kube-iaas:${src.plural}:edit`]);
      expect(aggregatedTo(AGGREGATE_TO_ADMIN)).toEqual(writers);
      expect(aggregatedTo(AGGREGATE_TO_EDIT)).toEqual(writers);
    } else {
      // A cluster-scoped kind aggregated into admin/edit would hand namespace admins node- and
      // account-level power through a ClusterRoleBinding someone made for another reason.
      expect(writers).toEqual([]);
      expect(aggregatedTo(AGGREGATE_TO_ADMIN)).toEqual([]);
      expect(aggregatedTo(AGGREGATE_TO_EDIT)).toEqual([]);
    }
    for (const r of roles) {
      for (const rule of r.rules) {
        expect(rule.apiGroups).toEqual([src.group]);
        if (rule.resources.some((x) => x.endsWith('/status'))) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
      }
    }
  });
});
