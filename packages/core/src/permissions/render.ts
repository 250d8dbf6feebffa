import type { IamParameters, IamStatement, OperatorPermissions, RbacRule } from './types.ts';

/** A Kubernetes object as plain data (what `yaml.stringify` or `kubectl apply` takes). */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;

export function serviceAccountName(p: Pick<OperatorPermissions, 'name'>): string {
  return `kube-iaas-${p.name}`;
}

const rule = (r: Omit<RbacRule, 'why'>) => ({
  apiGroups: r.apiGroups,
  resources: r.resources,
  ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
  verbs: r.verbs,
});

/** The rules of the `-crd-install` ClusterRole: create any CRD (RBAC cannot name an object not yet there), read and patch only its own. */
export function crdInstallRules(crds: string[]): Omit<RbacRule, 'why'>[] {
  return crds.length
    ? [
        { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['create'] },
        { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], resourceNames: crds, verbs: ['get', 'patch'] },
      ]
    : [];
}

/** The leader-election Role's rules: create a Lease, then touch only its own. */
export function leaseRules(leaseName: string): Omit<RbacRule, 'why'>[] {
  return [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [leaseName], verbs: ['get', 'update', 'patch'] },
  ];
}

/**
 * ServiceAccount, ClusterRole (+ binding), the CRD-install ClusterRole (+ binding) and the leader-election
 * Role (+ binding) in `namespace`: every object the operator's identity needs, nothing else.
 */
export function renderRbac(p: OperatorPermissions, namespace = 'kube-system'): Manifest[] {
  const sa = serviceAccountName(p);
  const subjects = [{ kind: 'ServiceAccount', name: sa, namespace }];
  const rbac = 'rbac.authorization.k8s.io/v1';
  const bind = (kind: 'ClusterRole' | 'Role', name: string): Manifest => ({
    apiVersion: rbac,
    kind: kind === 'Role' ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: kind === 'Role' ? { name, namespace } : { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name },
    subjects,
  });
  const out: Manifest[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace } },
    { apiVersion: rbac, kind: 'ClusterRole', metadata: { name: sa }, rules: p.rules.map(rule) },
    bind('ClusterRole', sa),
  ];
  if (p.installsCrds.length) {
    out.push({ apiVersion: rbac, kind: 'ClusterRole', metadata: { name: `${sa}-crd-install` }, rules: crdInstallRules(p.installsCrds).map(rule) }, bind('ClusterRole', `${sa}-crd-install`));
  }
  if (p.leaseName) {
    out.push({ apiVersion: rbac, kind: 'Role', metadata: { name: `${sa}-leader-election`, namespace }, rules: leaseRules(p.leaseName).map(rule) }, bind('Role', `${sa}-leader-election`));
  }
  return out;
}

export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: { Sid: string; Effect: 'Allow'; Action: string[]; Resource: string | string[]; Condition?: IamStatement['Condition'] }[];
}

const PLACEHOLDERS: Record<string, keyof IamParameters> = { Partition: 'partition', AccountId: 'accountId', ClusterName: 'clusterName' };

function substitute<T>(v: T, params: IamParameters | undefined): T {
  if (!params) return v;
  if (typeof v === 'string') return v.replace(/\$\{(Partition|AccountId|ClusterName)\}/g, (_m, k: string) => params[PLACEHOLDERS[k] ?? 'clusterName']) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => substitute(x, params)) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [substitute(k, params), substitute(x, params)])) as T;
  return v;
}

/** The IAM policy document; without `params` the `${…}` placeholders stay (the checked-in template). */
export function renderIamPolicy(p: OperatorPermissions, params?: IamParameters): IamPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: p.iam.map((s) =>
      substitute({ Sid: s.Sid, Effect: 'Allow' as const, Action: s.Action, Resource: s.Resource, ...(s.Condition ? { Condition: s.Condition } : {}) }, params),
    ),
  };
}

/** Every action the policy allows (sorted, unique). */
export function iamActions(p: Pick<OperatorPermissions, 'iam'>): string[] {
  return [...new Set(p.iam.flatMap((s) => s.Action))].sort();
}

/**
 * The policy as moto can enforce it: moto checks every request against resource `*` and evaluates only
 * trust-policy conditions, so a scoped statement would deny everything there. The action set is kept
 * exactly; the resource and tag scoping is proven by the policy simulator instead (see the READMEs).
 */
export function emulatorIamPolicy(p: Pick<OperatorPermissions, 'iam'>): IamPolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Sid: 'ActionsOnly', Effect: 'Allow', Action: iamActions(p), Resource: '*' }] };
}


/** Actions that need no permission (STS answers GetCallerIdentity to any valid credentials). */
export const ALWAYS_ALLOWED_ACTIONS: readonly string[] = ['sts:GetCallerIdentity'];
