// Shared by the ship tests: helm and kubectl against the testbed, and `npm run package`'s output built
// once per run (the Node layer is compressed once per machine, see scripts/package/oci.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ship, type Shipped } from '../../../scripts/package/main.ts';
import { helmBinary } from '../../../scripts/package/chart.ts';
import { TARGETS } from '../../../scripts/package/targets.ts';
import { testbedEnv } from '../../src/testing.ts';

export const env = testbedEnv();
Object.assign(process.env, env.env);
export const CLUSTER = env.clusterName;
export const KUBECTL = env.env.KUBECTL ?? 'kubectl';
export const helm = helmBinary();

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

export function run(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG: env.kubeconfig }, maxBuffer: 64 << 20, timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export function must(cmd: string, args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.err}\n${r.out}`);
  return r.out;
}

export function kubectlJson<T>(args: string[]): T {
  return JSON.parse(must(KUBECTL, [...args, '-o', 'json'])) as T;
}

export function ensureNamespace(ns: string): void {
  if (run(KUBECTL, ['get', 'namespace', ns]).code !== 0) must(KUBECTL, ['create', 'namespace', ns]);
}

/** Values every test install sets: the testbed's cluster and AWS endpoint, an IRSA role, its own names. */
export function installArgs(name: string, fullname: string): string[] {
  return [
    '--set', `clusterName=${CLUSTER}`,
    '--set', `fullnameOverride=${fullname}`,
    '--set', `aws.region=${env.region}`,
    '--set', `aws.endpointUrl=${env.awsEndpoint}`,
    '--set-string', `serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws-cn:iam::123456789012:role/kube-iaas-${name}`,
  ];
}

let shipped: Promise<Shipped[]> | undefined;
/** `npm run package` for every operator, once per test process. */
export function shipAll(): Promise<Shipped[]> {
  shipped ??= (async () => {
    const out: Shipped[] = [];
    for (const t of TARGETS) out.push(await ship(t, { helm }));
    return out;
  })();
  return shipped;
}

export function helmReleases(ns: string): { name: string; revision: string; chart: string; app_version: string }[] {
  return JSON.parse(must(helm, ['list', '-n', ns, '-o', 'json'])) as { name: string; revision: string; chart: string; app_version: string }[];
}

export function uninstallAll(ns: string): void {
  for (const r of existsSync(env.kubeconfig) ? helmReleases(ns) : []) run(helm, ['uninstall', r.name, '-n', ns, '--wait', '--timeout', '60s']);
  run(KUBECTL, ['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
}

export { execFileSync };
