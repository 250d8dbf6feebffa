// Starting and measuring an operator process for the footprint bench: spawn → ready (informers
// synced, lease acquired, /readyz 200) with the time of each step from its JSON log, then the
// resident set after it idled, split by where the pages are (/proc/<pid>/smaps) and, through the
// preloaded footprint-report.mjs, what V8 says about its heap.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const REPORT = fileURLToPath(new URL('./footprint-report.mjs', import.meta.url));

export interface StartTimes {
  /** spawn → the "operator started" log line (module loading, config, CRD install, init()). */
  started: number;
  /** spawn → the last "informer synced". */
  synced: number;
  /** spawn → "acquired the lease". */
  leading: number;
  /** spawn → /readyz answers 200. */
  ready: number;
}

/** Resident set by what the pages hold, MiB. */
export interface RssBreakdown {
  rss: number;
  hwm: number;
  /** Pages of the node executable (shared between processes on one machine). */
  binary: number;
  /** glibc's heap (brk): native allocations (V8 zones, OpenSSL, ICU, libuv). */
  malloc: number;
  /** Other anonymous mappings: V8's heap pages, code space, WebAssembly, thread stacks. */
  anon: number;
  other: number;
}

export interface V8Report {
  heapUsed: number;
  heapTotal: number;
  external: number;
  code: number;
  bytecode: number;
}

export interface Measured {
  times: StartTimes;
  idle: RssBreakdown;
  v8: V8Report | undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const MiB = 1024;

export function rssBreakdown(pid: number): RssBreakdown {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  let binary = 0;
  let malloc = 0;
  let anon = 0;
  let other = 0;
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1] ?? '';
      continue;
    }
    const m = /^Rss:\s+(\d+)/.exec(line);
    if (!m) continue;
    const v = Number(m[1]);
    if (name === '[heap]') malloc += v;
    else if (name.endsWith('/node')) binary += v;
    else if (name === '' || name.startsWith('[')) anon += v;
    else other += v;
  }
  return { rss: kib('VmRSS') / MiB, hwm: kib('VmHWM') / MiB, binary: binary / MiB, malloc: malloc / MiB, anon: anon / MiB, other: other / MiB };
}

interface Running {
  child: ChildProcess;
  lines: string[];
  port: number;
  spawnedAt: number;
}

export async function startProcess(node: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Running> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const child = spawn(node, ['--import', REPORT, ...args, `--metrics-bind-address=127.0.0.1:${port}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  const take = (chunk: Buffer) => {
    buf += chunk.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return { child, lines, port, spawnedAt };
}

function logTime(lines: readonly string[], msg: string, last = false): number | undefined {
  let t: number | undefined;
  for (const l of lines) {
    if (!l.includes(`"msg":"${msg}"`)) continue;
    const m = /"time":"([^"]+)"/.exec(l);
    if (m?.[1]) {
      t = Date.parse(m[1]);
      if (!last) return t;
    }
  }
  return t;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the process led and answered /readyz 200; the times of each step. */
export async function waitReady(p: Running, opts: { timeoutMs?: number; leases?: number } = {}): Promise<StartTimes> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const leases = opts.leases ?? 1;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}:\n${p.lines.slice(-20).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`not ready in time:\n${p.lines.slice(-20).join('\n')}`);
    const leading = p.lines.filter((l) => l.includes('"msg":"acquired the lease; leading"')).length;
    if (leading >= leases) {
      const ok = await fetch(`http://127.0.0.1:${p.port}/readyz`).then((r) => r.ok, () => false);
      if (ok) {
        const ready = Date.now() - p.spawnedAt;
        const at = (msg: string, last = false) => (logTime(p.lines, msg, last) ?? NaN) - p.spawnedAt;
        return { started: at('operator started', true), synced: at('informer synced', true), leading: at('acquired the lease; leading', true), ready };
      }
    }
    await sleep(20);
  }
}

/** Asks the preloaded reporter for V8's view (SIGUSR2 → one JSON line on stderr). */
export async function v8Report(p: Running): Promise<V8Report | undefined> {
  const before = p.lines.length;
  p.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const line = p.lines.slice(before).find((l) => l.startsWith('FOOTPRINT '));
    if (line) return JSON.parse(line.slice('FOOTPRINT '.length)) as V8Report;
    await sleep(20);
  }
  return undefined;
}

export async function stopProcess(p: Running): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

/** One measured run: start, wait until ready, idle `idleMs`, sample, stop. */
export async function measureOnce(node: string, args: readonly string[], env: NodeJS.ProcessEnv, idleMs: number, leases = 1): Promise<Measured> {
  const p = await startProcess(node, args, env);
  try {
    const times = await waitReady(p, { leases });
    await sleep(idleMs);
    const v8 = await v8Report(p);
    const idle = rssBreakdown(p.child.pid ?? 0);
    return { times, idle, v8 };
  } finally {
    await stopProcess(p);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
