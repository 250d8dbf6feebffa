import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { seedAccount, CLUSTER_NAME, NODE_PLAN, type SeededAccount } from './account.ts';
import { ensureBinaries } from './binaries.ts';
import {
  COMPONENTS,
  kubeconfigPath,
  logFile,
  startApiserver,
  startControllerManager,
  startEtcd,
  startMoto,
  startScheduler,
  waitApiserver,
  writeKubeconfigs,
  type Component,
  type Layout,
  type Ports,
} from './control-plane.ts';
import { ensureMoto } from './moto.ts';
import { repoRoot, stateDir } from './paths.ts';
import { generatePki } from './pki.ts';
import { csiNodeEnv, removeNodeStorage } from './node-storage.ts';
import { cniNodeEnv, removeNodeNetwork } from './node-network.ts';
import { withStateLock } from './lock.ts';
import { freePort, isAlive, startDetached, stopGroup, tail, waitFor } from './proc.ts';
import { provisionIdentities, readIdentities, type Identities } from './identities.ts';

/** The region the testbed's account lives in: the article's (moto serves cn-northwest-1, partition aws-cn). */
export const REGION = 'cn-northwest-1';

export interface TestbedState {
  version: 1;
  startedAt: string;
  binDir: string;
  motoBin: string;
  ports: Ports;
  pids: Partial<Record<Component, number>>;
  account?: SeededAccount;
  timings: Record<string, number>;
}

const statePath = (dir = stateDir()) => join(dir, 'state.json');

export function readState(dir = stateDir()): TestbedState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as TestbedState;
  } catch {
    return undefined;
  }
}

function writeState(s: TestbedState, dir = stateDir()): void {
  writeFileSync(statePath(dir), JSON.stringify(s, null, 2));
}

/** Environment for AWS clients (ours and the operators') pointing at the testbed's moto. */
export function awsEnv(s: TestbedState, dir = stateDir()): Record<string, string> {
  // Once moto enforces IAM (identities.ts), the tests, the seeding and the node simulator are its administrator.
  const admin = readIdentities(dir)?.admin;
  return {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${s.ports.moto}`,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    // moto accepts any key; these are not credentials of any real account.
    AWS_ACCESS_KEY_ID: admin?.accessKeyId ?? 'testing',
    AWS_SECRET_ACCESS_KEY: admin?.secretAccessKey ?? 'testing',
    // Operators turn on their moto workarounds (core's --aws-emulator-quirks) only when told.
    AWS_EMULATOR_QUIRKS: 'true',
    CLUSTER_NAME,
  };
}

export function envExports(s: TestbedState, dir = stateDir()): string {
  const vars: Record<string, string> = { ...awsEnv(s), KUBECONFIG: kubeconfigPath(dir, 'admin'), KUBECTL: join(s.binDir, 'kubectl') };
  return Object.entries(vars)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
}

export interface Health {
  component: Component;
  pid?: number;
  alive: boolean;
}

export function health(s: TestbedState | undefined = readState()): Health[] {
  return COMPONENTS.map((c) => ({ component: c, pid: s?.pids[c], alive: isAlive(s?.pids[c]) }));
}

export function isRunning(s: TestbedState | undefined = readState()): boolean {
  return !!s && health(s).every((h) => h.alive);
}

type Log = (line: string) => void;

async function step<T>(s: TestbedState, name: string, log: Log, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  const out = await fn();
  s.timings[name] = Date.now() - t;
  log(`  ${name.padEnd(26)} ${((Date.now() - t) / 1000).toFixed(1)}s`);
  return out;
}

/**
 * Starts everything, or returns the running testbed untouched. A half-dead testbed (some
 * component crashed) is stopped and started again from scratch.
 */
export async function up(log: Log = console.log): Promise<TestbedState> {
  return withStateLock(stateDir(), () => upLocked(log));
}

async function upLocked(log: Log): Promise<TestbedState> {
  const dir = stateDir();
  const existing = readState(dir);
  if (existing && isRunning(existing)) {
    log(`testbed already running (started ${existing.startedAt})`);
    return existing;
  }
  if (existing) {
    const dead = health(existing).filter((h) => !h.alive).map((h) => h.component);
    log(`testbed state found with stopped components (${dead.join(', ')}); restarting it`);
    await downLocked(() => undefined);
  }
  const began = Date.now();
  const leftNs = removeNodeNetwork(dir);
  if (leftNs) log(`removed what a previous node simulator left: ${leftNs} network namespaces`);
  const left = removeNodeStorage(dir);
  if (left.mounts || left.loops) log(`removed what a previous node simulator left: ${left.mounts} mounts, ${left.loops} loop devices`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const [binDir, motoBin] = [await ensureBinaries(log), await ensureMoto(log)];
  const ports: Ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    moto: await freePort(),
  };
  const s: TestbedState = { version: 1, startedAt: new Date().toISOString(), binDir, motoBin, ports, pids: {}, timings: {} };
  writeState(s, dir);
  const pki = await generatePki(join(dir, 'pki'));
  const l: Layout = { dir, binDir, pki, ports, logs: join(dir, 'logs') };
  try {
    log('starting testbed:');
    s.pids.etcd = await step(s, 'etcd', log, () => startEtcd(l));
    writeState(s, dir);
    s.pids.moto = await step(s, 'moto (AWS API)', log, () => startMoto(l, motoBin));
    writeState(s, dir);
    s.pids['kube-apiserver'] = startApiserver(l);
    writeState(s, dir);
    await step(s, 'kube-apiserver', log, () => waitApiserver(l, s.pids['kube-apiserver']));
    writeKubeconfigs(l);
    s.pids['kube-controller-manager'] = await step(s, 'kube-controller-manager', log, () => startControllerManager(l));
    writeState(s, dir);
    s.pids['kube-scheduler'] = await step(s, 'kube-scheduler', log, () => startScheduler(l));
    writeState(s, dir);
    writeEnvFiles(s, dir);
    Object.assign(process.env, awsEnv(s));
    s.account = await step(s, 'AWS account (seeded)', log, () =>
      seedAccount(new EC2Client({ region: REGION }), new AutoScalingClient({ region: REGION }), REGION),
    );
    writeState(s, dir);
    await step(s, 'identities (RBAC + IAM)', log, () => identities(s, l));
    writeEnvFiles(s, dir);
    Object.assign(process.env, awsEnv(s));
    s.pids['node-simulator'] = startNodeSimulator(s, l, log);
    writeState(s, dir);
    await step(s, 'nodes registered + Ready', log, () => waitNodesReady(dir, NODE_PLAN.length, l));
  } catch (err) {
    log(`testbed failed to start: ${(err as Error).message}`);
    await downLocked(() => undefined, { keepLogs: true });
    throw err;
  }
  s.timings.total = Date.now() - began;
  writeState(s, dir);
  log(describe(s, dir));
  return s;
}

/** Each operator's ServiceAccount and IAM user (see identities.ts); moto enforces IAM from here on. */
function identities(s: TestbedState, l: Layout, awsOnly?: Identities): Promise<Identities> {
  return provisionIdentities({
    dir: l.dir,
    kubectl: join(s.binDir, 'kubectl'),
    adminKubeconfig: kubeconfigPath(l.dir, 'admin'),
    server: `https://127.0.0.1:${s.ports.apiserver}`,
    caData: readFileSync(l.pki.caCert).toString('base64'),
    motoEndpoint: `http://127.0.0.1:${s.ports.moto}`,
    region: REGION,
    ...(awsOnly ? { awsOnly } : {}),
  });
}

function startNodeSimulator(s: TestbedState, l: Layout, log: Log): number {
  const main = join(repoRoot(), 'testbed', 'src', 'node-simulator', 'main.ts');
  // The simulator logs the reason itself when the machine cannot run the node plugin.
  const csi = csiNodeEnv(l.dir, log);
  const cni = cniNodeEnv(l.dir, log);
  const env = { ...process.env, ...awsEnv(s), KUBECONFIG: kubeconfigPath(l.dir, 'node-simulator'), ...(typeof csi === 'string' ? {} : csi), ...(typeof cni === 'string' ? { NODE_SIM_NO_CNI_REASON: cni } : cni) };
  return startDetached(process.execPath, [main], logFile(l, 'node-simulator'), env);
}

async function waitNodesReady(dir: string, count: number, l: Layout): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath(dir, 'admin'));
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    `${count} Ready nodes`,
    async () => {
      const nodes = await core.listNode();
      return nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >= count;
    },
    60_000,
    () => `node-simulator log:\n${tail(logFile(l, 'node-simulator'))}`,
  );
}

function writeEnvFiles(s: TestbedState, dir: string): void {
  writeFileSync(join(dir, 'aws.env'), `${envExports(s, dir)}\n`);
}

export function describe(s: TestbedState, dir = stateDir()): string {
  const a = s.account;
  const lines = [
    '',
    'kube-iaas testbed is up',
    `  kube-apiserver   https://127.0.0.1:${s.ports.apiserver}`,
    `  etcd             http://127.0.0.1:${s.ports.etcdClient}`,
    `  moto (AWS API)   http://127.0.0.1:${s.ports.moto}   region ${REGION}`,
    `  kubeconfig       ${kubeconfigPath(dir, 'admin')}`,
    `  aws env          ${join(dir, 'aws.env')}`,
    `  kubectl          ${join(s.binDir, 'kubectl')}`,
    `  logs             ${join(dir, 'logs')}/`,
  ];
  if (a) {
    lines.push(
      `  cluster          ${CLUSTER_NAME}   VPC ${a.vpcId} (192.168.192.0/22)`,
      `  subnets          ${a.subnets.map((x) => `${x.id} ${x.role} ${x.zone}`).join('; ')}`,
      `  security groups  cluster ${a.clusterSecurityGroupId}, baseline (untagged) ${a.baselineSecurityGroupId}`,
      `  instances        ${a.instanceIds.join(', ')}`,
      `  auto scaling     ${a.asgName} (launch template ${a.launchTemplateName})`,
    );
  }
  lines.push(`  started in       ${((s.timings.total ?? 0) / 1000).toFixed(1)}s`, '', `  eval "$(npm run -s testbed -- env)"   # to use kubectl and the AWS CLI against it`);
  return lines.join('\n');
}

/** Stops every process the testbed started, by pid, and removes its state. */
export async function down(log: Log = console.log, opts: { keepLogs?: boolean } = {}): Promise<void> {
  return withStateLock(stateDir(), () => downLocked(log, opts));
}

async function downLocked(log: Log, opts: { keepLogs?: boolean } = {}): Promise<void> {
  const dir = stateDir();
  const s = readState(dir);
  if (!s) {
    log('testbed is not running');
    return;
  }
  // Reverse start order: nothing is left talking to a stopped dependency for long.
  for (const c of [...COMPONENTS].reverse()) {
    const pid = s.pids[c];
    if (pid && isAlive(pid)) {
      await stopGroup(pid);
      log(`  stopped ${c} (pid ${pid})`);
    }
  }
  for (const entry of ['etcd-data', 'pki', 'apiserver-certs', 'kcm-certs', 'scheduler-certs', 'kubeconfig', 'aws.env', 'state.json', 'identities', 'identities.json', 'moto-recording.jsonl']) {
    rmSync(join(dir, entry), { recursive: true, force: true });
  }
  for (const f of ['controller-manager', 'scheduler', 'node-simulator']) rmSync(join(dir, `${f}.kubeconfig`), { force: true });
  // The simulator unmounts at stop; a killed one leaves mounts and loop devices, and the volumes' data goes now.
  removeNodeNetwork(dir);
  removeNodeStorage(dir);
  if (!opts.keepLogs) rmSync(join(dir, 'logs'), { recursive: true, force: true });
  log('testbed stopped');
}

/** Restarts one component in place (same ports, same data), for tests of outages. */
export async function restartComponent(c: 'kube-apiserver' | 'moto', opts: { downtimeMs?: number } = {}): Promise<void> {
  return withStateLock(stateDir(), () => restartLocked(c, opts));
}

async function restartLocked(c: 'kube-apiserver' | 'moto', opts: { downtimeMs?: number }): Promise<void> {
  const dir = stateDir();
  const s = readState(dir);
  if (!s) throw new Error('testbed is not running');
  const pki = await generatePki(join(dir, 'pki'));
  const l: Layout = { dir, binDir: s.binDir, pki, ports: s.ports, logs: join(dir, 'logs') };
  const pid = s.pids[c];
  if (pid) await stopGroup(pid);
  if (opts.downtimeMs) await new Promise((r) => setTimeout(r, opts.downtimeMs));
  if (c === 'kube-apiserver') {
    s.pids[c] = startApiserver(l);
    writeState(s, dir);
    await waitApiserver(l, s.pids[c]);
  } else {
    // moto keeps its state in memory: a restart is an account wiped clean, so re-seed it.
    s.pids.moto = await startMoto(l, s.motoBin);
    writeState(s, dir);
    const before = readIdentities(dir);
    rmSync(join(dir, 'identities.json'), { force: true });
    Object.assign(process.env, awsEnv(s));
    s.account = await seedAccount(new EC2Client({ region: REGION }), new AutoScalingClient({ region: REGION }), REGION);
    // New IAM users get new keys: processes started before the restart keep failing until restarted.
    if (before) await identities(s, l, before);
    writeEnvFiles(s, dir);
    Object.assign(process.env, awsEnv(s));
  }
  writeState(s, dir);
}

export function statusReport(): string {
  const dir = stateDir();
  const s = readState(dir);
  if (!s) return 'testbed is not running (npm run testbed -- up)';
  const rows = health(s).map((h) => `  ${h.component.padEnd(24)} ${h.alive ? 'running' : 'STOPPED'}  pid ${h.pid ?? '-'}`);
  const dead = health(s).filter((h) => !h.alive);
  const tails = dead.map((h) => `--- ${h.component} (last lines of its log)\n${tail(join(dir, 'logs', `${h.component}.log`), 10)}`);
  return [isRunning(s) ? describe(s, dir) : 'testbed is DEGRADED', '', ...rows, ...tails].join('\n');
}


