// Who may apply the kube-iaas kinds, on the real API server: the generated user roles are applied with
// kubectl, the controller-manager aggregates them into admin / edit / view, and impersonated users then
// try real (server-side dry-run) creates. A namespace admin manages load balancers in its own namespace
// only; nobody but a cluster admin writes the cluster-scoped kinds.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { testbedEnv, testbedKubeConfig, waitFor } from '@kube-iaas/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS, installCrds } from '../../src/index.ts';
import type { KindName } from '../../src/index.ts';
import { USER_ROLES_DIR } from '../../scripts/render.ts';
import { albGood, awsVolumeGood, eniPoolGood, nlbGood, nodeGroupGood } from '../fixtures.ts';

const ROLES = join(import.meta.dirname, '..', '..', USER_ROLES_DIR);
// Fresh namespaces each run: the last run's may still be terminating.
const RUN = Date.now().toString(36);
const TEAM = `rbac-it-a-${RUN}`;
const OTHER = `rbac-it-b-${RUN}`;
const USERS = { admin: 'rbac-it-ns-admin', edit: 'rbac-it-ns-editor', view: 'rbac-it-ns-viewer', clusterView: 'rbac-it-cluster-viewer' };

async function kubectl(args: string[], input?: string): Promise<{ ok: boolean; out: string; stdout: string }> {
  const { env } = testbedEnv();
  const bin = env.KUBECTL;
  if (!bin) throw new Error('testbed env has no KUBECTL');
  return new Promise((resolve) => {
    const child = execFile(bin, args, { env: { ...process.env, KUBECONFIG: env.KUBECONFIG } }, (err, stdout, stderr) =>
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim(), stdout: stdout.trim() }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function must(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (!r.ok) throw new Error(`kubectl ${args.join(' ')}: ${r.out}`);
  return r.out;
}

const SPEC: Record<KindName, unknown> = {
  AwsVolume: { ...awsVolumeGood, volumeId: 'vol-0123456789abcdef0' },
  EniPool: { ...eniPoolGood, instanceId: 'i-00000000000000000' },
  NetworkLoadBalancer: { ...nlbGood, serviceRef: { name: 'rbac-it-no-such-service' } },
  ApplicationLoadBalancer: albGood,
  NodeGroup: { ...nodeGroupGood, asgName: 'rbac-it-no-such-asg' },
};

/** A server-side dry-run create of a valid object of `kind` as `user`; the API server's answer. */
async function createAs(user: string, kind: KindName, namespace: string): Promise<{ ok: boolean; out: string }> {
  const k = KINDS[kind];
  const doc = { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: 'rbac-it', ...(k.scope === 'Namespaced' ? { namespace } : {}) }, spec: SPEC[kind] };
  // JSON, not YAML: kubectl reads YAML 1.1, where a value such as off would turn into a boolean.
  return kubectl(['create', '--dry-run=server', `--as=${user}`, '-f', '-'], JSON.stringify(doc));
}

async function can(user: string, verb: string, resource: string, namespace?: string, subresource?: string): Promise<boolean> {
  // `kind/x` would ask about the object named x; a subresource has its own flag.
  const r = await kubectl(['auth', 'can-i', verb, resource, `--as=${user}`, ...(namespace ? ['-n', namespace] : []), ...(subresource ? [`--subresource=${subresource}`] : [])]);
  // stdout is only the answer; warnings (a cluster-scoped resource asked with -n) go to stderr.
  return r.stdout === 'yes';
}

const resource = (kind: KindName) => `${KINDS[kind].plural}.${KINDS[kind].group}`;
const NAMESPACED: KindName[] = ['NetworkLoadBalancer', 'ApplicationLoadBalancer'];
const CLUSTER: KindName[] = ['AwsVolume', 'EniPool', 'NodeGroup'];

beforeAll(async () => {
  await installCrds(testbedKubeConfig());
  await must(['apply', '-f', ROLES]);
  for (const ns of [TEAM, OTHER]) await must(['create', 'namespace', ns, '--dry-run=client', '-o', 'yaml']).then((y) => must(['apply', '-f', '-'], y));
  for (const [role, user] of [['admin', USERS.admin], ['edit', USERS.edit], ['view', USERS.view]] as const) {
    await must(['create', 'rolebinding', `rbac-it-${role}`, `--clusterrole=${role}`, `--user=${user}`, '-n', TEAM, '--dry-run=client', '-o', 'yaml']).then((y) => must(['apply', '-f', '-'], y));
  }
  await must(['create', 'clusterrolebinding', 'rbac-it-cluster-view', '--clusterrole=view', `--user=${USERS.clusterView}`, '--dry-run=client', '-o', 'yaml']).then((y) => must(['apply', '-f', '-'], y));
  // The controller-manager's clusterrole-aggregation controller copies the rules into admin/edit/view.
  // admin, edit and view are aggregated one by one: wait for each before any test relies on it.
  await waitFor('roles aggregated into view', () => can(USERS.clusterView, 'list', resource('NodeGroup')));
  for (const kind of NAMESPACED) {
    await waitFor(`${kind} aggregated into admin`, () => can(USERS.admin, 'create', resource(kind), TEAM));
    await waitFor(`${kind} aggregated into edit`, () => can(USERS.edit, 'create', resource(kind), TEAM));
    await waitFor(`${kind} aggregated into view`, () => can(USERS.view, 'list', resource(kind), TEAM));
  }
}, 180_000);

afterAll(async () => {
  await kubectl(['delete', 'namespace', TEAM, OTHER, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'clusterrolebinding', 'rbac-it-cluster-view', '--ignore-not-found']);
  await kubectl(['delete', '-f', ROLES, '--ignore-not-found']);
});

describe('generated user roles, aggregated into admin / edit / view', () => {
  it.each(NAMESPACED)('a namespace admin and editor may create a %s in their namespace, not in another', async (kind) => {
    for (const user of [USERS.admin, USERS.edit]) {
      const own = await createAs(user, kind, TEAM);
      expect(own.ok, own.out).toBe(true);
      const other = await createAs(user, kind, OTHER);
      expect(other.ok).toBe(false);
      expect(other.out).toMatch(/forbidden/i);
    }
    expect(await can(USERS.admin, 'delete', resource(kind), TEAM)).toBe(true);
  });

  it.each(CLUSTER)('no namespace admin or editor may create a %s (cluster-scoped)', async (kind) => {
    for (const user of [USERS.admin, USERS.edit, USERS.view]) {
      const r = await createAs(user, kind, TEAM);
      expect(r.ok).toBe(false);
      expect(r.out).toMatch(/forbidden/i);
    }
  });

  it('nobody but the operator writes status', async () => {
    for (const kind of [...NAMESPACED, ...CLUSTER]) {
      expect(await can(USERS.admin, 'patch', resource(kind), TEAM, 'status')).toBe(false);
      expect(await can(USERS.admin, 'update', resource(kind), TEAM, 'status')).toBe(false);
    }
  });

  it('a viewer reads every kind it can see but writes none', async () => {
    for (const kind of NAMESPACED) {
      expect(await can(USERS.view, 'get', resource(kind), TEAM, 'status')).toBe(true);
      expect(await can(USERS.view, 'list', resource(kind), TEAM)).toBe(true);
      expect(await can(USERS.view, 'list', resource(kind), OTHER)).toBe(false);
      const r = await createAs(USERS.view, kind, TEAM);
      expect(r.ok).toBe(false);
    }
    // Bound cluster-wide, view reads the cluster-scoped kinds too (kubectl get kube-iaas works for auditors).
    for (const kind of CLUSTER) {
      expect(await can(USERS.clusterView, 'list', resource(kind))).toBe(true);
      expect(await can(USERS.clusterView, 'create', resource(kind))).toBe(false);
    }
    const all = await kubectl(['get', 'kube-iaas', '-A', `--as=${USERS.clusterView}`]);
    expect(all.ok, all.out).toBe(true);
  });
});
