import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { freePort } from '../testbed/src/proc.ts';

/**
 * `npm start`'s process supervision, the way a Deployment would run each operator: a crashed operator
 * is started again after a backoff (1 s doubling to 30 s, back to 1 s after a minute of uptime), each
 * restart logged and counted; a metrics port someone else holds is replaced by a free one before the
 * start; and stop() ends every child, including one already killed by a signal.
 */
export interface SupervisedSpec {
  name: string;
  /** node arguments before the flags (the entry point). */
  args: string[];
  /** Wanted metrics port; another one is chosen when it is taken. */
  port: number;
  env: NodeJS.ProcessEnv;
  onLine: (name: string, line: string) => void;
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** True when the child has ended: by exit code or by signal (a SIGKILLed child has exitCode null). */
export function exited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

export class Supervised {
  readonly spec: SupervisedSpec;
  port: number;
  restarts = 0;
  child: ChildProcess | undefined;
  #backoff = BACKOFF_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #startedAt = 0;
  #addrInUse = false;

  constructor(spec: SupervisedSpec) {
    this.spec = spec;
    this.port = spec.port;
  }

  log(msg: string): void {
    console.log(`[start] ${this.spec.name}: ${msg}`);
  }

  async start(): Promise<void> {
    if (this.#stopping) return;
    if (!(await portFree(this.port))) {
      const taken = this.port;
      this.port = await freePort();
      this.log(`metrics port ${taken} is taken; serving /metrics /healthz /readyz on 127.0.0.1:${this.port} instead`);
    }
    this.#addrInUse = false;
    this.#startedAt = Date.now();
    const child = spawn(process.execPath, [...this.spec.args, `--metrics-bind-address=127.0.0.1:${this.port}`], { env: this.spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        if (line.includes('EADDRINUSE')) this.#addrInUse = true;
        this.spec.onLine(this.spec.name, line);
      }
    };
    child.stdout?.on('data', lines);
    child.stderr?.on('data', lines);
    this.log(`pid ${child.pid} on 127.0.0.1:${this.port}`);
    child.on('exit', (code, signal) => this.#exited(code, signal));
  }

  #exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping) {
      this.log(`stopped (${signal ?? code})`);
      return;
    }
    if (Date.now() - this.#startedAt > HEALTHY_AFTER_MS) this.#backoff = BACKOFF_MIN_MS;
    this.restarts++;
    // Lost the port between our check and its bind: take another one at once rather than retry the same.
    const delay = this.#addrInUse ? 0 : this.#backoff;
    if (this.#addrInUse) this.port = 0;
    this.log(`exited (${signal ?? `code ${code}`}); restart ${this.restarts} in ${delay / 1000}s`);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void (this.port === 0 ? freePort().then((p) => ((this.port = p), this.start())) : this.start());
    }, delay);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone (or was already). */
  async stop(graceMs = 40_000): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    const c = this.child;
    if (!c || exited(c)) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const kill = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(kill);
  }
}
