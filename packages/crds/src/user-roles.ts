// The ClusterRoles that decide which users may read and write each kind, aggregated into Kubernetes'
// built-in user-facing roles (admin, edit, view) so no one has to bind them one by one.
//
// Namespaced kinds (NetworkLoadBalancer, ApplicationLoadBalancer) describe what a Service or Ingress in the
// same namespace could ask for, so whoever may manage Services in a namespace (admin, edit) may manage them
// there too. Cluster-scoped kinds (AwsVolume, EniPool, NodeGroup) act on node-level or account-level things
// (an instance's ENIs, any EBS volume, an Auto Scaling Group): they are aggregated into `view` only, which a
// RoleBinding cannot turn into cluster-wide rights, so writing them stays with cluster admins.
import { crdName } from './crd.ts';
import type { KindSource } from './sources/common.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface ClusterRole {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  rules: PolicyRule[];
}

export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

const READ = ['get', 'list', 'watch'];
// No status verbs: status is the operator's record of AWS, and a user who could write it could make a
// Service or a pool report addresses it does not have.
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/** The user-facing ClusterRoles of one kind: `kube-iaas:<plural>:view`, and `:edit` for namespaced kinds. */
export function userRoles(src: Pick<KindSource, 'group' | 'plural' | 'kind' | 'scope' | 'component'>): ClusterRole[] {
  const base = { 'app.kubernetes.io/part-of': 'kube-iaas', 'app.kubernetes.io/component': src.component };
  const role = (suffix: string, verbs: string[], aggregateTo: string[], what: string): ClusterRole => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: `kube-iaas:${src.plural}:${suffix}`,
      labels: { ...base, ...Object.fromEntries(aggregateTo.map((l) => [l, 'true'])) },
      annotations: { 'kube-iaas.dev/description': what },
    },
    rules: [
      { apiGroups: [src.group], resources: [src.plural], verbs },
      ...(suffix === 'view' ? [{ apiGroups: [src.group], resources: [`${src.plural}/status`], verbs: READ }] : []),
    ],
  });
  const roles = [role('view', READ, [AGGREGATE_TO_VIEW], `Read ${src.kind} objects (${crdName(src)}); aggregated into view, edit and admin.`)];
  if (src.scope === 'Namespaced') {
    roles.push(
      role('edit', [...READ, ...WRITE], [AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT], `Create, change and delete ${src.kind} objects in a namespace; aggregated into edit and admin.`),
    );
  }
  return roles;
}
