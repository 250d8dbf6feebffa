import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { repoRoot } from './paths.ts';

/**
 * Every operator (and node half) runs on the testbed as itself: a ServiceAccount bound to exactly its
 * generated `packages/<op>/generated/rbac.yaml`, and an IAM user in moto with exactly the actions of its
 * generated `iam-policy.json`. moto enforces IAM once these exist; the tests, the seeding and the node
 * simulator use an administrator user of their own.
 */

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Identity {
  /** `lb-operator`, or `eni-operator-node` for a node half. */
  name: string;
  serviceAccount: string;
  kubeconfig: string;
  aws?: AwsKeys;
}

export interface Identities {
  admin: AwsKeys;
  components: Record<string, Identity>;
}

export const ADMIN_USER = 'kube-iaas-testbed-admin';
const run = promisify(execFile);

/** Each generated identity in the repo: `{ name, rbac, iam? }` per operator and node half. */
export function generatedIdentities(root = repoRoot()): { name: string; rbac: string; iam?: string }[] {
  const out: { name: string; rbac: string; iam?: string }[] = [];
  for (const pkg of readdirSync(join(root, 'packages')).filter((d) => d.endsWith('-operator')).sort()) {
    const dir = join(root, 'packages', pkg, 'generated');
    for (const [prefix, name] of [['', pkg], ['node-', `${pkg}-node`]] as const) {
      const rbac = join(dir, `${prefix}rbac.yaml`);
      if (!existsSync(rbac)) continue;
      const iam = join(dir, `${prefix}iam-policy.json`);
      out.push({ name, rbac, ...(existsSync(iam) ? { iam } : {}) });
    }
  }
  return out;
}

/** The actions of a generated policy template; moto is given these on resource `*` (it cannot evaluate tag conditions). */
export function policyActions(file: string): string[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { Statement: { Action: string | string[] }[] };
  return [...new Set(doc.Statement.flatMap((s) => [s.Action].flat()))].sort();
}

/**
 * One IAM query call to moto. Before enforcement is on moto reads the credential scope of the
 * Authorization header only to route the call (service `iam`, region → partition `aws-cn`).
 */
async function iam(endpoint: string, region: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=bootstrap/20260101/${region}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
  });
  const text = await res.text();
  if (!res.ok && !text.includes('EntityAlreadyExists')) throw new Error(`IAM ${params.Action} failed (${res.status}): ${text.slice(0, 300)}`);
  return text;
}

async function user(endpoint: string, region: string, name: string, policy: unknown): Promise<AwsKeys> {
  await iam(endpoint, region, { Action: 'CreateUser', UserName: name });
  await iam(endpoint, region, { Action: 'PutUserPolicy', UserName: name, PolicyName: name, PolicyDocument: JSON.stringify(policy) });
  const xml = await iam(endpoint, region, { Action: 'CreateAccessKey', UserName: name });
  const pick = (tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1] ?? '';
  return { accessKeyId: pick('AccessKeyId'), secretAccessKey: pick('SecretAccessKey') };
}

/** moto's documented switch: enforce IAM for every request from now on (`0` requests without it), or not. */
async function enforceIam(endpoint: string, on: boolean): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
  if (!res.ok) throw new Error(`turning moto's IAM enforcement ${on ? 'on' : 'off'} failed: ${res.status} ${await res.text()}`);
}

export interface ProvisionInput {
  dir: string;
  kubectl: string;
  adminKubeconfig: string;
  server: string;
  caData: string;
  motoEndpoint: string;
  region: string;
  /** Only IAM (after a moto restart the ServiceAccounts are still there). */
  awsOnly?: Identities;
}

/** Creates every identity, then turns moto's IAM enforcement on. */
export async function provisionIdentities(p: ProvisionInput): Promise<Identities> {
  const admin = await user(p.motoEndpoint, p.region, ADMIN_USER, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
  const components: Record<string, Identity> = {};
  for (const g of generatedIdentities()) {
    const docs = readFileSync(g.rbac, 'utf8').split(/^---$/m).map((d) => parse(d) as { kind: string; metadata: { name: string; namespace?: string } });
    const sa = docs.find((d) => d.kind === 'ServiceAccount');
    if (!sa) throw new Error(`${g.rbac} has no ServiceAccount`);
    const kubeconfig = p.awsOnly?.components[g.name]?.kubeconfig ?? join(p.dir, 'identities', `${g.name}.kubeconfig`);
    if (!p.awsOnly) {
      const k = ['--kubeconfig', p.adminKubeconfig];
      await run(p.kubectl, [...k, 'apply', '--server-side', '--force-conflicts', '--field-manager=kube-iaas-testbed', '-f', g.rbac]);
      const { stdout: token } = await run(p.kubectl, [...k, 'create', 'token', sa.metadata.name, '-n', sa.metadata.namespace ?? 'kube-system', '--duration=48h']);
      mkdirSync(join(p.dir, 'identities'), { recursive: true });
      writeFileSync(
        kubeconfig,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'kube-iaas-testbed', cluster: { server: p.server, 'certificate-authority-data': p.caData } }],
          users: [{ name: sa.metadata.name, user: { token: token.trim() } }],
          contexts: [{ name: sa.metadata.name, context: { cluster: 'kube-iaas-testbed', user: sa.metadata.name } }],
          'current-context': sa.metadata.name,
        }),
        { mode: 0o600 },
      );
    }
    const aws = g.iam ? await user(p.motoEndpoint, p.region, sa.metadata.name, { Version: '2012-10-17', Statement: [{ Sid: 'ActionsOnly', Effect: 'Allow', Action: policyActions(g.iam), Resource: '*' }] }) : undefined;
    components[g.name] = { name: g.name, serviceAccount: sa.metadata.name, kubeconfig, ...(aws ? { aws } : {}) };
  }
  // KUBE_IAAS_IAM_ENFORCEMENT=off at `up` leaves moto accepting any call (the identities still exist and are used).
  if (process.env.KUBE_IAAS_IAM_ENFORCEMENT !== 'off') await enforceIam(p.motoEndpoint, true);
  const ids: Identities = { admin, components };
  writeFileSync(join(p.dir, 'identities.json'), JSON.stringify(ids, null, 2), { mode: 0o600 });
  return ids;
}

export function readIdentities(dir: string): Identities | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'identities.json'), 'utf8')) as Identities;
  } catch {
    return undefined;
  }
}

/**
 * What to add to a component's environment so it runs as itself: its kubeconfig and its IAM user's keys.
 * Empty when the testbed has no identity for it, or with `KUBE_IAAS_OPERATOR_IDENTITY=admin` (then it
 * runs with the testbed's administrator credentials, as before this existed).
 */
export function identityEnv(dir: string, name: string): Record<string, string> {
  if (process.env.KUBE_IAAS_OPERATOR_IDENTITY === 'admin') return {};
  const id = readIdentities(dir)?.components[name];
  if (!id) return {};
  return {
    KUBECONFIG: id.kubeconfig,
    ...(id.aws ? { AWS_ACCESS_KEY_ID: id.aws.accessKeyId, AWS_SECRET_ACCESS_KEY: id.aws.secretAccessKey } : {}),
  };
}

export interface Restriction {
  /** Drop this verb on this resource (`services/status`, `patch`) from the ClusterRole. */
  dropRule?: { resource: string; verb: string };
  /** Drop this action (`ec2:CreateVolume`) from the IAM policy. */
  dropAction?: string;
}

/**
 * A second identity for `name` with one permission less, for the negative tests: a ServiceAccount
 * `<sa>-minus-<n>` bound to a copy of the generated ClusterRole (and the other generated roles) without
 * `dropRule`, and an IAM user with the policy's actions less `dropAction`. Returns the environment that
 * makes a component run as it (see `identityEnv`).
 */
export async function restrictedIdentity(p: { dir: string; kubectl: string; adminKubeconfig: string; motoEndpoint: string; region: string }, name: string, r: Restriction): Promise<Record<string, string>> {
  const g = generatedIdentities().find((x) => x.name === name);
  const base = readIdentities(p.dir)?.components[name];
  if (!g || !base) throw new Error(`no identity for ${name} on this testbed`);
  const suffix = `minus-${Date.now().toString(36)}`;
  const sa = `${base.serviceAccount}-${suffix}`;
  type Doc = { kind: string; metadata: { name: string; namespace?: string }; rules?: { resources: string[]; verbs: string[] }[]; roleRef?: { name: string }; subjects?: { name: string }[] };
  const docs = readFileSync(g.rbac, 'utf8').split(/^---$/m).map((d) => parse(d) as Doc | null).filter((d): d is Doc => !!d);
  for (const d of docs) {
    d.metadata.name = d.metadata.name.replace(base.serviceAccount, sa);
    if (d.roleRef) d.roleRef.name = d.roleRef.name.replace(base.serviceAccount, sa);
    for (const s of d.subjects ?? []) s.name = sa;
    if (d.kind === 'ClusterRole' && d.metadata.name === sa && r.dropRule) {
      const { resource, verb } = r.dropRule;
      d.rules = (d.rules ?? []).map((x) => (x.resources.includes(resource) ? { ...x, verbs: x.verbs.filter((v) => v !== verb) } : x)).filter((x) => x.verbs.length);
    }
  }
  const file = join(p.dir, 'identities', `${name}-${suffix}.rbac.yaml`);
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  const k = ['--kubeconfig', p.adminKubeconfig];
  await run(p.kubectl, [...k, 'apply', '--server-side', '--field-manager=kube-iaas-testbed', '-f', file]);
  const { stdout: token } = await run(p.kubectl, [...k, 'create', 'token', sa, '-n', 'kube-system', '--duration=2h']);
  const kc = parse(readFileSync(base.kubeconfig, 'utf8')) as { users: { name: string; user: { token: string } }[] };
  for (const u of kc.users) u.user.token = token.trim();
  const kubeconfig = join(p.dir, 'identities', `${name}-${suffix}.kubeconfig`);
  writeFileSync(kubeconfig, stringify(kc), { mode: 0o600 });
  const env: Record<string, string> = { KUBECONFIG: kubeconfig };
  if (g.iam) {
    const actions = policyActions(g.iam).filter((a) => a !== r.dropAction);
    // The bootstrap IAM calls are unsigned: enforcement is paused for them (moto's same switch) and back on at once.
    await enforceIam(p.motoEndpoint, false);
    try {
      const aws = await user(p.motoEndpoint, p.region, sa, { Version: '2012-10-17', Statement: [{ Sid: 'ActionsOnly', Effect: 'Allow', Action: actions, Resource: '*' }] });
      Object.assign(env, { AWS_ACCESS_KEY_ID: aws.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.secretAccessKey });
    } finally {
      if (process.env.KUBE_IAAS_IAM_ENFORCEMENT !== 'off') await enforceIam(p.motoEndpoint, true);
    }
  }
  return env;
}
