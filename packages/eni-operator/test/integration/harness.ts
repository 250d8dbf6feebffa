// Runs the real operator (src/main.ts as a child process) against the testbed and reads Kubernetes
// and moto directly to check what it did. No fakes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { KubeClient } from '@kube-iaas/core';
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

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 300): Promise<T> {
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
    const child = spawn(process.execPath, [MAIN, `--metrics-bind-address=127.0.0.1:${port}`, '--leader-elect=false', '--resync-period=1h', ...extraArgs], {
      env: { ...process.env, ...testbedEnv().env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const op = new OperatorProcess(port, child);
    await waitFor('operator ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 90_000, 300).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${String(e)}\n${op.output.slice(-30).join('\n')}`);
    });
    return op;
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

export function clients() {
  Object.assign(process.env, testbedEnv().env);
  return { kube: new KubeClient(testbedKubeConfig()), ec2: new EC2Client({}) };
}

export type Clients = ReturnType<typeof clients>;

/** True when `ip` is inside the IPv4 `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (n(ip) & mask) >>> 0 === (n(base ?? '') & mask) >>> 0;
}
