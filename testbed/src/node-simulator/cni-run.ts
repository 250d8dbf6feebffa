// One CNI call through cnitool, the CNI reference client, as a container runtime makes it: run in the
// node's namespace with the plugin and conflist the node's eni agent installed, the pod named by CNI_ARGS.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { sh } from './net-topology.ts';

export interface CniEnv {
  cnitool: string;
  /** The conflist's network name (the testbed's prefix, so result files of two testbeds never meet). */
  network: string;
  root: string;
}

export interface CniCall {
  nodeNs: string;
  /** The node's agent directory: `bin/` (plugin) and `conf/` (conflist). */
  nodeDir: string;
  netns: string;
  namespace: string;
  name: string;
  timeoutMs: number;
}

/** `ms`: cnitool's run, wall; `pluginMs`: the plugin's own process start → exit, from its stderr line. */
export type CniOutcome = ({ ok: true; ip: string } | { ok: false; message: string }) & { ms?: number; pluginMs?: number };

/**
 * `<prefix>-pod-<namespace>.<name>-<first 8 of the uid>`: `ip netns list` says which pod; the uid part keeps a
 * pod re-created under the same name apart from one whose DEL is still to come (cnitool derives the container
 * ID from the netns path). Over-long names keep a hash instead of their tail.
 */
export function podNetnsName(prefix: string, namespace: string, name: string, uid: string): string {
  const full = `${prefix}-pod-${namespace}.${name}-${uid.slice(0, 8)}`;
  return full.length <= 200 ? full : `${full.slice(0, 180)}-${createHash('sha1').update(full).digest('hex').slice(0, 12)}`;
}

/** ADDs and DELs at once: each is a cnitool and a Node process; a burst of pods must not start a hundred. */
const MAX_PARALLEL = 4;
let running = 0;
const queue: (() => void)[] = [];

async function slot<T>(f: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await f();
  } finally {
    running--;
    queue.shift()?.();
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(e) });
    });
  });
}

/** The plugin's message as cnitool prints it (`plugin type="…" failed (add): <msg>`), or the raw output. */
function errorText(out: string, err: string): string {
  const m = /plugin type="[^"]*"(?: name="[^"]*")? failed \((?:add|del)\): (.*)/.exec(out + '\n' + err);
  if (m) return m[1]!.trim();
  return (err || out).trim().split('\n').slice(-3).join(' ') || 'cnitool failed';
}

export function cniRun(e: CniEnv, cmd: 'add' | 'del', c: CniCall): Promise<CniOutcome> {
  return slot(async () => {
    if (cmd === 'add' && sh('ip', ['netns', 'list']).stdout.split('\n').every((l) => l.split(' ')[0] !== c.netns)) {
      const r = sh('ip', ['netns', 'add', c.netns]);
      if (r.status !== 0) return { ok: false, message: `netns ${c.netns}: ${r.stderr.trim()}` };
    }
    const env = { ...process.env, CNI_PATH: join(c.nodeDir, 'bin'), NETCONFPATH: join(c.nodeDir, 'conf'), CNI_IFNAME: 'eth0', CNI_ARGS: `K8S_POD_NAMESPACE=${c.namespace};K8S_POD_NAME=${c.name}` };
    const t0 = performance.now();
    const r = await run('ip', ['netns', 'exec', c.nodeNs, e.cnitool, cmd, e.network, `/var/run/netns/${c.netns}`], env, c.timeoutMs);
    const ms = +(performance.now() - t0).toFixed(1);
    if (r.code !== 0) return { ok: false, message: errorText(r.stdout, r.stderr), ms };
    const took = /kube-iaas-eni (?:ADD|DEL) took [\d.]+ ms \(process ([\d.]+) ms/.exec(r.stderr);
    const timing = { ms, ...(took ? { pluginMs: Number(took[1]) } : {}) };
    if (cmd === 'del') return { ok: true, ip: '', ...timing };
    // The pod's address as its namespace has it, not as the result claims.
    const a = sh('ip', ['-n', c.netns, '-j', '-4', 'addr', 'show', 'dev', 'eth0']);
    const ip = (JSON.parse(a.stdout || '[]') as { addr_info?: { local?: string }[] }[])[0]?.addr_info?.[0]?.local;
    return ip ? { ok: true, ip, ...timing } : { ok: false, message: `ADD returned but eth0 in ${c.netns} has no IPv4 address: ${a.stderr.trim()}`, ...timing };
  });
}
