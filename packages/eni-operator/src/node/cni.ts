// CNI specification 1.1: the plugin's half of the contract with the runtime (environment, stdin
// configuration, result and error objects). Pure; no I/O.

export const CNI_VERSION = '1.1.0';
export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'];

/** Error codes of the spec (1-99 are reserved); 100+ are this plugin's. */
export const ErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  containerUnknown: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  /** The node agent answered that the pod's grant cannot be wired (not in the pool, ENI link missing). */
  grantRefused: 100,
  /** No grant arrived within the plugin's wait. */
  noGrant: 101,
  /** An `ip`/`nft` command failed while wiring. */
  wiringFailed: 102,
  /** CHECK found something ADD made missing or changed. */
  checkFailed: 103,
} as const;

export class CniError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, msg: string, details = '') {
    super(msg);
    this.code = code;
    this.details = details;
  }
}

export interface CniErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function errorObject(cniVersion: string, err: unknown): CniErrorObject {
  if (err instanceof CniError) {
    return { cniVersion, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) };
  }
  return { cniVersion, code: ErrorCode.ioFailure, msg: err instanceof Error ? err.message : String(err) };
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'VERSION' | 'GC';

export interface PluginConf {
  cniVersion: string;
  name: string;
  type: string;
  /** Unix socket of the node agent. */
  agentSocket: string;
  /** How long ADD waits for the pod's grant. */
  grantTimeoutSeconds: number;
  mtu: number;
  /** Destinations that keep the pod's address besides the VPC CIDRs (VPC CNI's AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS). */
  excludeSnatCidrs: string[];
  /** Where ADD records what it made, so DEL can undo it when the netns is gone. */
  stateDir: string;
  prevResult?: unknown;
}

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifName: string;
  podNamespace: string;
  podName: string;
}

const DEFAULTS = { grantTimeoutSeconds: 30, mtu: 9001, stateDir: '/var/lib/cni/kube-iaas', agentSocket: '/run/kube-iaas/eni-agent.sock' };

export function parseConf(stdin: string): PluginConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(ErrorCode.decodeFailure, `network configuration is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new CniError(ErrorCode.decodeFailure, 'network configuration is not an object');
  const c = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof c[k] === 'string' ? c[k] : undefined);
  const cniVersion = str('cniVersion') ?? '';
  if (!SUPPORTED_VERSIONS.includes(cniVersion)) {
    throw new CniError(ErrorCode.incompatibleVersion, `cniVersion ${JSON.stringify(cniVersion)} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
  }
  const num = (k: string, def: number): number => {
    const v = c[k];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new CniError(ErrorCode.invalidConfig, `${k} must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const excl = c['excludeSnatCidrs'] ?? [];
  if (!Array.isArray(excl) || excl.some((x) => typeof x !== 'string' || !isCidr(x))) {
    throw new CniError(ErrorCode.invalidConfig, `excludeSnatCidrs must be a list of IPv4 CIDRs, got ${JSON.stringify(excl)}`);
  }
  return {
    cniVersion,
    name: str('name') ?? '',
    type: str('type') ?? '',
    agentSocket: str('agentSocket') ?? DEFAULTS.agentSocket,
    grantTimeoutSeconds: num('grantTimeoutSeconds', DEFAULTS.grantTimeoutSeconds),
    mtu: num('mtu', DEFAULTS.mtu),
    excludeSnatCidrs: excl as string[],
    stateDir: str('stateDir') ?? DEFAULTS.stateDir,
    prevResult: c['prevResult'],
  };
}

/** CNI_ARGS is `K=V;K=V`; Kubernetes runtimes put the pod's namespace and name there. */
export function parseCniArgs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of args.split(';')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export function parseEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env['CNI_COMMAND'] ?? '';
  if (!['ADD', 'DEL', 'CHECK', 'STATUS', 'VERSION', 'GC'].includes(command)) {
    throw new CniError(ErrorCode.invalidEnv, `CNI_COMMAND ${JSON.stringify(command)} is not one of ADD, DEL, CHECK, STATUS, VERSION, GC`);
  }
  const args = parseCniArgs(env['CNI_ARGS'] ?? '');
  const e: CniEnv = {
    command: command as CniCommand,
    containerId: env['CNI_CONTAINERID'] ?? '',
    netns: env['CNI_NETNS'] ?? '',
    ifName: env['CNI_IFNAME'] ?? '',
    podNamespace: args['K8S_POD_NAMESPACE'] ?? '',
    podName: args['K8S_POD_NAME'] ?? '',
  };
  if (e.command === 'ADD' || e.command === 'DEL' || e.command === 'CHECK') {
    const need: [string, string][] = [['CNI_CONTAINERID', e.containerId], ['CNI_IFNAME', e.ifName], ['K8S_POD_NAMESPACE (in CNI_ARGS)', e.podNamespace], ['K8S_POD_NAME (in CNI_ARGS)', e.podName]];
    if (e.command !== 'DEL') need.push(['CNI_NETNS', e.netns]);
    const missing = need.filter(([, v]) => !v).map(([k]) => k);
    if (missing.length) throw new CniError(ErrorCode.invalidEnv, `missing ${missing.join(', ')}`);
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(e.ifName)) throw new CniError(ErrorCode.invalidEnv, `CNI_IFNAME ${JSON.stringify(e.ifName)} is not a valid interface name`);
  }
  return e;
}

export function isIpv4(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

export function isCidr(s: string): boolean {
  const [ip, len, ...rest] = s.split('/');
  return rest.length === 0 && ip !== undefined && isIpv4(ip) && len !== undefined && /^\d{1,2}$/.test(len) && Number(len) <= 32;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, x) => a * 256 + Number(x), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const start = Math.floor(ipToInt(base ?? '') / size) * size;
  const v = ipToInt(ip);
  return v >= start && v < start + size;
}

/** AWS puts a subnet's router at its base address + 1. */
export function subnetGateway(cidr: string): string {
  const [base, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  return intToIp(Math.floor(ipToInt(base ?? '') / size) * size + 1);
}

export interface AddResult {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string; mtu?: number }[];
  ips: { address: string; gateway: string; interface: number }[];
  routes: { dst: string; gw?: string }[];
  dns: Record<string, never>;
}

export function addResult(cniVersion: string, a: { hostVeth: string; hostMac: string; ifName: string; netns: string; ip: string; mtu: number }): AddResult {
  return {
    cniVersion,
    interfaces: [
      { name: a.hostVeth, mac: a.hostMac, mtu: a.mtu },
      { name: a.ifName, sandbox: a.netns, mtu: a.mtu },
    ],
    ips: [{ address: `${a.ip}/32`, gateway: LINK_GATEWAY, interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: LINK_GATEWAY }],
    dns: {},
  };
}

/** The pod's next hop, as in the article's §4.3 (any address works; only its neighbour entry matters). */
export const LINK_GATEWAY = '169.254.1.1';
