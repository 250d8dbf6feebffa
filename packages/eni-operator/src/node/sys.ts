// Thin I/O: iproute2 and nft as child processes (no netlink binding to install, and `ip -batch`
// makes a whole namespace's wiring one fork). `nsenter --net=<path>` enters the pod's netns by path,
// which `ip -n` cannot (it only knows names under /run/netns).
import { spawnSync } from 'node:child_process';
import { NFT_CHAIN, NFT_TABLE } from './wiring.ts';

export interface RunResult { status: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], input?: string): RunResult {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { status: -1, stdout: '', stderr: `${cmd}: ${r.error.message}` };
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['nsenter', [`--net=${netns}`, cmd, ...args]] : [cmd, args];
}

/** Runs `ip -batch -`; throws with iproute2's own message (it names the failing line) unless `force`. */
export function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): RunResult {
  const [cmd, args] = inNetns(opts.netns, 'ip', [...(opts.force ? ['-force'] : []), '-batch', '-']);
  const r = run(cmd, args, lines.join('\n') + '\n');
  if (r.status !== 0 && !opts.force) throw new Error(`ip ${opts.netns ? `(in ${opts.netns}) ` : ''}failed: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r;
}

export function ipJson<T>(args: string[], netns?: string): T[] {
  const [cmd, a] = inNetns(netns, 'ip', ['-j', ...args]);
  const r = run(cmd, a);
  if (r.status !== 0 || !r.stdout.trim()) return [];
  return JSON.parse(r.stdout) as T[];
}

export function nftScript(script: string): void {
  const r = run('nft', ['-f', '-'], script);
  if (r.status !== 0) throw new Error(`nft failed: ${r.stderr.trim() || `exit ${r.status}`}`);
}

interface NftJson { nftables?: { rule?: { handle?: number; comment?: string } }[] }

/** Handles and comments of the rules in our SNAT chain; none when the table is not there. */
export function snatRules(): { handle: number; comment: string }[] {
  const r = run('nft', ['-j', 'list', 'chain', 'ip', NFT_TABLE, NFT_CHAIN]);
  if (r.status !== 0) return [];
  const j = JSON.parse(r.stdout) as NftJson;
  return (j.nftables ?? []).flatMap((e) => (e.rule?.handle !== undefined ? [{ handle: e.rule.handle, comment: e.rule.comment ?? '' }] : []));
}

export function deleteSnatRules(comment: string): void {
  const handles = snatRules().filter((r) => r.comment === comment).map((r) => r.handle);
  if (!handles.length) return;
  nftScript(handles.map((h) => `delete rule ip ${NFT_TABLE} ${NFT_CHAIN} handle ${h}`).join('\n') + '\n');
}
