import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { operatorEntry } from './bundled.ts';
import { repoRoot, stateDir } from './paths.ts';
import { freePort } from './proc.ts';
import { nodeSimRoot } from './node-storage.ts';
import { storageLayout } from './node-simulator/host-storage.ts';
import { identityEnv, restrictedIdentity, type Restriction } from './identities.ts';
import { kubeconfigPath } from './control-plane.ts';
import { readState, REGION } from './testbed.ts';

/** What an integration test needs to reach the running testbed. */
export interface TestbedEnv {
  kubeconfig: string;
  awsEndpoint: string;
  region: string;
  clusterName: string;
  /** Variables to hand to a child process (an operator under test). */
  env: Record<string, string>;
}

/** Reads `.testbed/aws.env` written by `testbed up` (the vitest global setup runs it). */
export function testbedEnv(): TestbedEnv {
  const dir = stateDir();
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(dir, 'aws.env'), 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  env.KUBECONFIG = join(dir, 'kubeconfig');
  return {
    kubeconfig: env.KUBECONFIG,
    awsEndpoint: env.AWS_ENDPOINT_URL ?? '',
    region: env.AWS_REGION ?? '',
    clusterName: env.CLUSTER_NAME ?? '',
    env,
  };
}

/** A KubeConfig for the testbed's kube-apiserver, as cluster-admin. */
export function testbedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testbedEnv().kubeconfig);
  return kc;
}

export { repoRoot };

/**
 * The environment that makes a component run as itself on the testbed: `KUBECONFIG` with its
 * ServiceAccount's token (exactly its generated RBAC) and `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` of its
 * IAM user (exactly its generated policy's actions). `name` is the package folder (`lb-operator`) or
 * `<package>-node` for a node half. Empty with `KUBE_IAAS_OPERATOR_IDENTITY=admin`.
 */
export function operatorIdentityEnv(name: string): Record<string, string> {
  return overrides.get(name) ?? identityEnv(stateDir(), name);
}

const overrides = new Map<string, Record<string, string>>();

/**
 * Until called again with undefined, components named `name` start with `env` (from
 * `restrictedIdentityEnv`) instead of their own identity.
 */
export function useIdentity(name: string, env: Record<string, string> | undefined): void {
  if (env) overrides.set(name, env);
  else overrides.delete(name);
}

/**
 * For negative tests: the environment of a second identity of `name` with one RBAC verb or one IAM action
 * less than its generated role and policy (`OperatorProcess.start(main, args, { env })`).
 */
export async function restrictedIdentityEnv(name: string, r: Restriction): Promise<Record<string, string>> {
  const dir = stateDir();
  const s = readState(dir);
  if (!s) throw new Error('testbed is not running');
  return restrictedIdentity({ dir, kubectl: join(s.binDir, 'kubectl'), adminKubeconfig: kubeconfigPath(dir, 'admin'), motoEndpoint: `http://127.0.0.1:${s.ports.moto}`, region: REGION }, name, r);
}

/** A KubeConfig for `name`'s own ServiceAccount (see `operatorIdentityEnv`); the admin one without an identity. */
export function operatorKubeConfig(name: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(operatorIdentityEnv(name).KUBECONFIG ?? testbedEnv().kubeconfig);
  return kc;
}

/**
 * Where the node simulator keeps what it plays kubelet with (see testbed/README.md, "CSI volumes"):
 * the volumes' data files, each node's device root and kubelet directory.
 */
export function nodeSimStorage(): ReturnType<typeof storageLayout> & { root: string } {
  const root = nodeSimRoot(stateDir());
  return { root, ...storageLayout(root) };
}
export { blockPublishPath, loopsBackedUnder, mountsUnder, podVolumePath, stagingPath } from './node-simulator/host-storage.ts';

/** Stops and starts one component in place (same ports and data), to test outages. */
export { restartComponent } from './testbed.ts';

/** Polls `fn` until it returns something other than undefined/false; the error names `what`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export { freePort };

/**
 * An operator's entry point run as a child process against the testbed, the way `npm start` and a
 * Deployment run it: its own metrics port, the testbed's environment, output kept for diagnosis.
 */
export class OperatorProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly output: string[] = [];

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.child = child;
    const keep = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line) this.output.push(line);
      if (this.output.length > 5000) this.output.splice(0, this.output.length - 5000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** Starts `main` with `--metrics-bind-address` on a free port and waits for `/readyz`. */
  static async start(main: string, args: string[] = [], readyTimeoutMs = 90_000): Promise<OperatorProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [...operatorEntry(main), `--metrics-bind-address=127.0.0.1:${port}`, ...args], {
      // Its own ServiceAccount and IAM user, never the tests' administrator credentials.
      env: { ...process.env, ...testbedEnv().env, LOG_LEVEL: 'info', ...operatorIdentityEnv(basename(dirname(dirname(main)))) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const op = new OperatorProcess(port, child);
    // KUBE_IAAS_TEST_LOG_DIR keeps every operator's whole output, for a failure in CI that the last
    // lines in the error do not explain.
    const logDir = process.env.KUBE_IAAS_TEST_LOG_DIR;
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      const file = createWriteStream(join(logDir, `${basename(dirname(dirname(main)))}-${port}.log`));
      child.stdout?.pipe(file);
      child.stderr?.pipe(file);
    }
    await waitFor('operator ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, readyTimeoutMs, 200).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${String(e)}\n${op.output.slice(-30).join('\n')}`, { cause: e });
    });
    return op;
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  /** AWS calls by `service:Operation:outcome` from the operator's /metrics. */
  async awsCalls(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const m of (await this.metrics()).matchAll(/^kube_iaas_aws_api_calls_total\{([^}]*)\} (\d+)/gm)) {
      const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      out[`${labels.service}:${labels.operation}:${labels.outcome}`] = Number(m[2]);
    }
    return out;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

/** Mutating calls between two `awsCalls()` snapshots (Describe*, Get* and List* are reads). */
export function mutatingDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const op = k.split(':')[1] ?? '';
    if (/^(Describe|Get|List)/.test(op)) continue;
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

export interface CrashRelay {
  /** Give this to the operator as `AWS_ENDPOINT_URL`. */
  url: string;
  close(): void;
}

/**
 * An HTTP relay in front of moto for crash tests. Every call passes through; for a call whose body names
 * `Action=<action>`, once moto has answered, `afterCall()` runs (typically: SIGKILL the operator) and,
 * when it returns true, the answer is dropped, so the caller dies without learning what AWS did.
 */
export async function crashRelay(action: string, afterCall: () => boolean): Promise<CrashRelay> {
  const target = new URL(testbedEnv().awsEndpoint);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const watched = body.toString().includes(`Action=${action}`);
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        const out: Buffer[] = [];
        upRes.on('data', (b: Buffer) => out.push(b));
        upRes.on('end', () => {
          if (watched && afterCall()) {
            res.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers).end(Buffer.concat(out));
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, close: () => void server.close() };
}
