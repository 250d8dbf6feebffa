// Runs the real operator (src/main.ts as a child process) against the testbed, and reads Kubernetes
// and moto directly to check what it did. No fakes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client, DescribeListenersCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { KubeClient, describeLoadBalancers, describeTargetGroups, matchesCluster, type Tags } from '@kube-iaas/core';
import { testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 250): Promise<T> {
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

  static async start(extraArgs: string[] = []): Promise<OperatorProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN, `--metrics-bind-address=127.0.0.1:${port}`, '--leader-elect=false', '--orphan-sweep-interval=2s', '--resync-period=1h', ...extraArgs], {
      env: { ...process.env, ...testbedEnv().env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const op = new OperatorProcess(port, child);
    await waitFor('operator ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 60_000, 200).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${String(e)}\n${op.output.slice(-30).join('\n')}`);
    });
    return op;
  }

  /** AWS calls by `service:Operation:outcome` from the operator's /metrics. */
  async awsCalls(): Promise<Record<string, number>> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^kube_iaas_aws_api_calls_total\{([^}]*)\} (\d+)/gm)) {
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

/** Mutating calls between two metric snapshots (Describe* and Get* are reads). */
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

export function clients() {
  Object.assign(process.env, testbedEnv().env);
  return {
    kube: new KubeClient(testbedKubeConfig()),
    elbv2: new ElasticLoadBalancingV2Client({}),
    ec2: new EC2Client({}),
    asg: new AutoScalingClient({}),
  };
}

export type Clients = ReturnType<typeof clients>;

/** Every load balancer and target group in moto tagged for this cluster by kube-iaas. */
export async function ourElbResources(c: Clients, cluster: string, filter: (tags: Tags) => boolean = () => true) {
  const match = (t: Tags) => matchesCluster(cluster)(t) && filter(t);
  const [lbs, tgs] = await Promise.all([describeLoadBalancers(c.elbv2, { match }), describeTargetGroups(c.elbv2, { match })]);
  return { lbs, tgs };
}

export async function listenersOf(c: Clients, lbArn: string) {
  return (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
}

export async function targetsOf(c: Clients, tgArn: string) {
  return ((await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? []).map((d) => ({ id: d.Target?.Id ?? '', port: d.Target?.Port }));
}
