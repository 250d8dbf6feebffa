import { KubeConfig } from '@kubernetes/client-node';
import type { KubeClient } from '../runtime/client.ts';
import type { KubeObject, ResourceType } from '../runtime/types.ts';
import { rulesAllow, uncoveredWatches } from './coverage.ts';
import type { OperatorPermissions } from './types.ts';

/** The part of an operator this check drives: its setup and what that registered. */
export interface CheckableOperator {
  readonly client: KubeClient;
  readonly informers: readonly { readonly type: ResourceType }[];
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '');

/**
 * Runs the operator's `init()` with its KubeClient stubbed at the typed boundary (reads find nothing,
 * writes echo the object), then lists what its declared ClusterRole does not allow: every informer it
 * registered (list + watch) and every request its setup made. A new watch or setup write without its
 * rule makes this non-empty, so the unit test holding it fails.
 */
export async function permissionGaps(op: CheckableOperator, init: () => Promise<void>, perms: Pick<OperatorPermissions, 'rules'>): Promise<string[]> {
  const gaps: string[] = [];
  const need = (verb: string, type: ResourceType, sub?: string) => {
    const resource = sub ? `${type.plural}/${sub}` : type.plural;
    if (!rulesAllow(perms.rules, groupOf(type.apiVersion), resource, verb)) gaps.push(`${verb} ${resource}${groupOf(type.apiVersion) ? `.${groupOf(type.apiVersion)}` : ''}`);
  };
  const c = op.client as unknown as Record<string, unknown>;
  c.get = (type: ResourceType) => (need('get', type), Promise.resolve(undefined));
  c.list = (type: ResourceType) => (need('list', type), Promise.resolve({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '1' }, items: [] }));
  c.create = (type: ResourceType, obj: KubeObject) => (need('create', type), Promise.resolve(obj));
  c.replace = (type: ResourceType, obj: KubeObject, o: { subresource?: string } = {}) => (need('update', type, o.subresource), Promise.resolve(obj));
  c.patch = (type: ResourceType, _t: unknown, _p: unknown, o: { subresource?: string } = {}) => (need('patch', type, o.subresource), Promise.resolve({ metadata: {} }));
  c.delete = (type: ResourceType) => (need('delete', type), Promise.resolve(undefined));
  await init();
  return [...gaps, ...uncoveredWatches(perms, op.informers.map((i) => i.type))];
}

/**
 * Options for constructing an operator whose `init()` runs without a cluster or AWS (for
 * `permissionGaps`): an unreachable API server, no CRD install, no metrics port, and AWS settings that
 * make no call at construction. It sets the AWS variables on `process.env` too (the SDK's default chain reads them).
 */
export function offlineOperatorOptions(argv: string[] = []): { kubeConfig: KubeConfig; argv: string[]; env: Record<string, string> } {
  const env = { AWS_REGION: 'cn-northwest-1', AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', CLUSTER_NAME: 'offline' };
  Object.assign(process.env, env);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'offline', server: 'https://127.0.0.1:9', skipTLSVerify: false }],
    users: [{ name: 'offline', token: 'offline' }],
    contexts: [{ name: 'offline', cluster: 'offline', user: 'offline' }],
    currentContext: 'offline',
  });
  return { kubeConfig, argv: ['--install-crds=false', '--metrics-bind-address=0', '--no-leader-elect', ...argv], env };
}
