// ADD, DEL, CHECK, STATUS of the plugin: the grant from the agent, then the wiring of wiring.ts.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, ErrorCode, addResult, type AddResult, type CniEnv, type PluginConf } from './cni.ts';
import { hostVethMac, hostVethName, snatComment } from './names.ts';
import { ask, type WireGrant } from './protocol.ts';
import { deleteSnatRules, ipBatch, ipJson, nftScript, snatRules } from './sys.ts';
import { MAIN_TABLE, checkHost, checkPod, hostAddLines, hostDelLines, nftAddScript, podAddLines, type Attachment } from './wiring.ts';

const podOf = (e: CniEnv): string => `${e.podNamespace}/${e.podName}`;

/** Milliseconds per step of the last ADD, for the run-time line on stderr. */
export const addTimings: Record<string, number> = {};
function timed<T>(step: string, fn: () => T): T {
  const t = performance.now();
  try {
    return fn();
  } finally {
    addTimings[step] = performance.now() - t;
  }
}

export async function cmdAdd(e: CniEnv, c: PluginConf): Promise<AddResult> {
  const pod = podOf(e);
  if (!existsSync(e.netns)) throw new CniError(ErrorCode.containerUnknown, `pod ${pod}: netns ${e.netns} does not exist`);
  const t = performance.now();
  const grant = await fetchGrant(e, c);
  addTimings['grant'] = performance.now() - t;
  const a = attachment(e, c, grant);
  // A repeated ADD for the same attachment starts clean rather than failing on "File exists".
  const prev = readState(c.stateDir, e.containerId);
  if (prev) teardown(prev);
  writeState(c.stateDir, a);
  try {
    timed('host', () => ipBatch(hostAddLines(a)));
    timed('pod', () => ipBatch(podAddLines(a), { netns: a.netns }));
    timed('nft', () => nftScript(nftAddScript(a)));
  } catch (err) {
    teardown(a);
    removeState(c.stateDir, e.containerId);
    throw new CniError(ErrorCode.wiringFailed, `pod ${pod}: wiring ${a.ip} failed, undone: ${(err as Error).message}`);
  }
  return addResult(c.cniVersion, { hostVeth: a.hostVeth, hostMac: a.hostMac, ifName: a.ifName, netns: a.netns, ip: a.ip, mtu: a.mtu });
}

/** Idempotent; works from the record ADD left, or from names alone when there is none (the veth and the SNAT rule). */
export function cmdDel(e: CniEnv, c: PluginConf): void {
  const a = readState(c.stateDir, e.containerId) ?? {
    containerId: e.containerId,
    hostVeth: hostVethName(e.podNamespace, e.podName),
    ip: prevResultIp(c.prevResult) ?? '',
  };
  teardown(a);
  removeState(c.stateDir, e.containerId);
}

export function cmdCheck(e: CniEnv, c: PluginConf): void {
  const pod = podOf(e);
  const a = readState(c.stateDir, e.containerId);
  if (!a) throw new CniError(ErrorCode.checkFailed, `pod ${pod}: no record of an ADD for container ${e.containerId}`);
  if (!existsSync(e.netns)) throw new CniError(ErrorCode.containerUnknown, `pod ${pod}: netns ${e.netns} does not exist`);
  const missing = [
    ...checkHost(a, {
      links: ipJson(['link', 'show', 'dev', a.hostVeth]),
      routes: ipJson(['route', 'show', `${a.ip}/32`]),
      rules: ipJson(['rule', 'show']),
      snatComments: snatRules().map((r) => r.comment),
    }),
    ...checkPod(a, {
      addrs: ipJson(['addr', 'show', 'dev', a.ifName], a.netns),
      routes: ipJson(['route', 'show', 'dev', a.ifName], a.netns),
      neigh: ipJson(['neigh', 'show', 'dev', a.ifName], a.netns),
    }),
  ];
  if (missing.length) throw new CniError(ErrorCode.checkFailed, `pod ${pod}: missing ${missing.join('; ')}`);
}

export async function cmdStatus(c: PluginConf): Promise<void> {
  try {
    await ask(c.agentSocket, { op: 'status' }, 2000);
  } catch (err) {
    throw new CniError(ErrorCode.notAvailable, `kube-iaas node agent: ${(err as Error).message}`);
  }
}

async function fetchGrant(e: CniEnv, c: PluginConf): Promise<WireGrant> {
  const pod = podOf(e);
  const waitMs = c.grantTimeoutSeconds * 1000;
  let res;
  try {
    res = await ask(c.agentSocket, { op: 'grant', namespace: e.podNamespace, name: e.podName, waitMs }, waitMs + 5000);
  } catch (err) {
    throw new CniError(ErrorCode.tryAgainLater, `pod ${pod}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new CniError(res.code, res.msg);
  if (!res.grant) throw new CniError(ErrorCode.noGrant, `pod ${pod}: no address granted`);
  return res.grant;
}

function attachment(e: CniEnv, c: PluginConf, g: WireGrant): Attachment {
  return {
    containerId: e.containerId,
    podKey: podOf(e),
    netns: e.netns,
    ifName: e.ifName,
    hostVeth: hostVethName(e.podNamespace, e.podName),
    hostMac: hostVethMac(e.podNamespace, e.podName),
    ip: g.ip,
    routeTable: g.routeTable,
    mtu: c.mtu,
    snatTo: g.primaryIp,
    noSnat: [...g.vpcCidrs, ...c.excludeSnatCidrs],
  };
}

function teardown(a: Pick<Attachment, 'containerId' | 'hostVeth' | 'ip'> & Partial<Pick<Attachment, 'routeTable' | 'noSnat'>>): void {
  // From ADD's record the from-pod rules are known (none on the primary ENI); without it, hostDelLines tries a few.
  const noSnat = a.routeTable === undefined ? undefined : a.routeTable === MAIN_TABLE ? [] : a.noSnat;
  ipBatch(hostDelLines({ hostVeth: a.hostVeth, ip: a.ip, ...(noSnat ? { noSnat } : {}) }), { force: true });
  deleteSnatRules(snatComment(a.containerId));
}

function prevResultIp(prev: unknown): string | undefined {
  const ips = (prev as { ips?: { address?: string }[] } | undefined)?.ips;
  return ips?.[0]?.address?.split('/')[0];
}

const statePath = (dir: string, id: string): string => join(dir, `${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);

function readState(dir: string, id: string): Attachment | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir, id), 'utf8')) as Attachment;
  } catch {
    return undefined;
  }
}

function writeState(dir: string, a: Attachment): void {
  mkdirSync(dir, { recursive: true });
  const p = statePath(dir, a.containerId);
  writeFileSync(`${p}.tmp`, JSON.stringify(a));
  renameSync(`${p}.tmp`, p);
}

function removeState(dir: string, id: string): void {
  rmSync(statePath(dir, id), { force: true });
}
