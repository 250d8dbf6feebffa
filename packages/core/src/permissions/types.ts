/**
 * What an operator declares about itself, once: the Kubernetes API rules it needs and the AWS actions it
 * may call. Its ClusterRole/Role (`generated/rbac.yaml`) and IAM policy (`generated/iam-policy.json`) are
 * rendered from this by `npm run generate`, the testbed gives each operator exactly these, and unit tests
 * hold the declaration against the informers the operator registers.
 */

/** One RBAC rule, with the reason it exists (the README lists these). */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  why: string;
}

/** Values substituted into the IAM policy template. */
export interface IamParameters {
  partition: string;
  accountId: string;
  clusterName: string;
}

/**
 * One IAM statement. Strings may hold `${Partition}`, `${AccountId}` and `${ClusterName}`, replaced by
 * `renderIamPolicy`; the checked-in template keeps them, so a chart or Terraform fills them in.
 */
export interface IamStatement {
  Sid: string;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  why: string;
  /**
   * Why this statement may not be scoped by our cluster tags (AWS offers no tag key for it, or the
   * resource is not ours). Mutating statements without it must deny untagged and other clusters'
   * resources; the policy simulator test holds them to that.
   */
  unscopedBecause?: string;
}

export interface OperatorPermissions {
  /** The operator's name, e.g. `lb-operator`; the ServiceAccount is `kube-iaas-<name>`. */
  name: string;
  /** Cluster-wide rules of its ClusterRole. */
  rules: RbacRule[];
  /** CRDs it installs with `--install-crds` (a separate ClusterRole, dropped when that flag is off). */
  installsCrds: string[];
  /** Its leader-election Lease name (a Role in the operator's namespace), or undefined without one. */
  leaseName?: string;
  /** Empty for a component that calls no AWS API (the node halves). */
  iam: IamStatement[];
}
