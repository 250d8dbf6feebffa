import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { writeKubeconfig } from './kubeconfig.ts';
import type { Pki } from './pki.ts';
import { startDetached, tail, waitFor } from './proc.ts';

export type Component = 'etcd' | 'moto' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'node-simulator';
export const COMPONENTS: Component[] = ['etcd', 'moto', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'node-simulator'];

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  moto: number;
}

export interface Layout {
  dir: string;
  binDir: string;
  pki: Pki;
  ports: Ports;
  logs: string;
}

export const SERVICE_CIDR = '10.0.0.0/24';

export function logFile(l: { logs: string }, c: Component): string {
  return join(l.logs, `${c}.log`);
}

export function kubeconfigPath(dir: string, user: 'admin' | 'controller-manager' | 'scheduler' | 'node-simulator'): string {
  return user === 'admin' ? join(dir, 'kubeconfig') : join(dir, `${user}.kubeconfig`);
}

function httpsGet(url: string, l: Layout): Promise<{ status: number; body: string }> {
  const admin = l.pki.clients.admin;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: readFileSync(l.pki.caCert), cert: readFileSync(admin.cert), key: readFileSync(admin.key), timeout: 2000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Self-signed serving certs of the controller-manager and scheduler: a liveness probe only. */
function insecureHealthz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function failure(c: Component, l: Layout) {
  return () => `${c} did not become healthy; last lines of ${logFile(l, c)}:\n${tail(logFile(l, c))}`;
}

export async function startEtcd(l: Layout): Promise<number> {
  const data = join(l.dir, 'etcd-data');
  mkdirSync(data, { recursive: true });
  const client = `http://127.0.0.1:${l.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${l.ports.etcdPeer}`;
  const pid = startDetached(
    join(l.binDir, 'etcd'),
    [
      '--name=testbed',
      `--data-dir=${data}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=testbed=${peer}`,
      // A test cluster's data is disposable; fsync would only slow every write on a small disk.
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ],
    logFile(l, 'etcd'),
  );
  await waitFor('etcd', () => httpOk(`${client}/health`), 60_000, failure('etcd', l), pid);
  return pid;
}

export function startApiserver(l: Layout): number {
  return startDetached(
    join(l.binDir, 'kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${l.ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${l.ports.apiserver}`,
      `--tls-cert-file=${l.pki.apiserverCert}`,
      `--tls-private-key-file=${l.pki.apiserverKey}`,
      `--client-ca-file=${l.pki.caCert}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${l.pki.saPub}`,
      `--service-account-signing-key-file=${l.pki.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
      // The `kubernetes` Service endpoints cannot point at a loopback address; nothing in the
      // testbed reaches the apiserver through that Service.
      '--endpoint-reconciler-type=none',
      `--cert-dir=${join(l.dir, 'apiserver-certs')}`,
      '--v=1',
    ],
    logFile(l, 'kube-apiserver'),
  );
}

export async function waitApiserver(l: Layout, pid?: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'kube-apiserver /readyz',
    async () => (await httpsGet(`https://127.0.0.1:${l.ports.apiserver}/readyz`, l)).status === 200,
    timeoutMs,
    failure('kube-apiserver', l),
    pid,
  );
}

export function writeKubeconfigs(l: Layout): void {
  const server = `https://127.0.0.1:${l.ports.apiserver}`;
  for (const user of ['admin', 'controller-manager', 'scheduler', 'node-simulator'] as const) {
    const c = l.pki.clients[user];
    writeKubeconfig(kubeconfigPath(l.dir, user), { server, caFile: l.pki.caCert, certFile: c.cert, keyFile: c.key, user });
  }
}

export async function startControllerManager(l: Layout): Promise<number> {
  const kc = kubeconfigPath(l.dir, 'controller-manager');
  const pid = startDetached(
    join(l.binDir, 'kube-controller-manager'),
    [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${l.ports.controllerManager}`,
      `--cert-dir=${join(l.dir, 'kcm-certs')}`,
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${l.pki.saKey}`,
      `--root-ca-file=${l.pki.caCert}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--controllers=*',
      // The simulator reports node heartbeats through Leases; keep the default grace so a
      // stopped simulator shows up as NotReady like a dead kubelet would.
      '--v=1',
    ],
    logFile(l, 'kube-controller-manager'),
  );
  await waitFor('kube-controller-manager /healthz', () => insecureHealthz(l.ports.controllerManager), 60_000, failure('kube-controller-manager', l), pid);
  return pid;
}

export async function startScheduler(l: Layout): Promise<number> {
  const kc = kubeconfigPath(l.dir, 'scheduler');
  const pid = startDetached(
    join(l.binDir, 'kube-scheduler'),
    [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${l.ports.scheduler}`,
      `--cert-dir=${join(l.dir, 'scheduler-certs')}`,
      '--leader-elect=false',
      '--v=1',
    ],
    logFile(l, 'kube-scheduler'),
  );
  await waitFor('kube-scheduler /healthz', () => insecureHealthz(l.ports.scheduler), 60_000, failure('kube-scheduler', l), pid);
  return pid;
}

export function motoRecording(dir: string): string {
  return join(dir, 'moto-recording.jsonl');
}

export async function startMoto(l: Layout, motoBin: string): Promise<number> {
  // moto's recorder keeps every request (with its access key), so the calls each operator's IAM user made
  // can be held against its generated policy (calls.ts).
  const env = { ...process.env, MOTO_ENABLE_RECORDING: 'true', MOTO_RECORDER_FILEPATH: motoRecording(l.dir) };
  const pid = startDetached(motoBin, ['-H', '127.0.0.1', '-p', String(l.ports.moto)], logFile(l, 'moto'), env);
  await waitFor('moto', () => httpOk(`http://127.0.0.1:${l.ports.moto}/moto-api/`), 60_000, failure('moto', l), pid);
  return pid;
}
