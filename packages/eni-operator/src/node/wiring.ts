// What ADD makes, what DEL removes and what CHECK expects, as data: `ip -batch` lines and nft scripts.
// Pure; src/node/sys.ts runs them. One `ip -batch` process per namespace keeps ADD to a few forks.
import { LINK_GATEWAY } from './cni.ts';
import { snatComment } from './names.ts';

export const NFT_TABLE = 'kube-iaas-eni';
export const NFT_CHAIN = 'pod-snat';
/** Every pod's address is reached through the main table, also from pods whose own traffic uses an ENI table. */
export const RULE_PRIO_TO_POD = 512;
/**
 * Traffic from a pod on a secondary ENI to the VPC (and the excluded CIDRs) leaves through that ENI's table,
 * one rule per destination CIDR, as the VPC CNI does with SNAT on. Traffic to anywhere else uses main, leaves
 * through the primary ENI and is SNATed to its address: a packet with the primary address as source leaving a
 * secondary ENI would be dropped by the ENI's source/destination check on AWS.
 */
export const RULE_PRIO_FROM_POD = 1536;
/** DEL without ADD's record does not know how many from-pod rules there are; it removes up to this many. */
const MAX_FROM_RULES = 16;
export const MAIN_TABLE = 254;

export interface Attachment {
  containerId: string;
  podKey: string;
  netns: string;
  ifName: string;
  hostVeth: string;
  hostMac: string;
  ip: string;
  routeTable: number;
  mtu: number;
  /** Node's primary address: the SNAT source for destinations outside the VPC. */
  snatTo: string;
  /** VPC CIDRs plus the excluded CIDRs: destinations that see the pod's own address. */
  noSnat: string[];
}

export function hostAddLines(a: Attachment): string[] {
  const lines = [
    `link add ${a.hostVeth} address ${a.hostMac} mtu ${a.mtu} type veth peer name ${a.ifName} mtu ${a.mtu} netns ${a.netns}`,
    `link set ${a.hostVeth} up`,
    `route replace ${a.ip}/32 dev ${a.hostVeth} scope link`,
    `rule add to ${a.ip}/32 lookup main priority ${RULE_PRIO_TO_POD}`,
  ];
  if (a.routeTable !== MAIN_TABLE) {
    for (const cidr of a.noSnat) lines.push(`rule add from ${a.ip}/32 to ${cidr} lookup ${a.routeTable} priority ${RULE_PRIO_FROM_POD}`);
  }
  return lines;
}

export function podAddLines(a: Attachment): string[] {
  return [
    `addr add ${a.ip}/32 dev ${a.ifName}`,
    `link set ${a.ifName} up`,
    `route add ${LINK_GATEWAY} dev ${a.ifName} scope link`,
    `route add default via ${LINK_GATEWAY} dev ${a.ifName}`,
    `neigh replace ${LINK_GATEWAY} lladdr ${a.hostMac} dev ${a.ifName} nud permanent`,
  ];
}

/**
 * The article's AWS-SNAT-CHAIN (`! -d <VPC> -m addrtype ! --dst-type LOCAL -j SNAT --to-source <primary> --random`),
 * one rule per pod so that DEL removes exactly its own.
 * `add` of table and chain is idempotent, so concurrent ADDs need no lock; the agent creates them at start too. */
export function nftBaseScript(): string {
  return `add table ip ${NFT_TABLE}\nadd chain ip ${NFT_TABLE} ${NFT_CHAIN} { type nat hook postrouting priority srcnat; policy accept; }\n`;
}

export function nftAddScript(a: Attachment): string {
  return (
    nftBaseScript() +
    `add rule ip ${NFT_TABLE} ${NFT_CHAIN} ip saddr ${a.ip} ip daddr != { ${a.noSnat.join(', ')} } fib daddr type != local snat to ${a.snatTo} random comment "${snatComment(a.containerId)}"\n`
  );
}

/** Run with `ip -force -batch`: each line may already be gone (DEL is idempotent). The pod's end goes with its veth. */
export function hostDelLines(a: Pick<Attachment, 'hostVeth' | 'ip'> & { noSnat?: string[] }): string[] {
  const lines = [`link del ${a.hostVeth}`];
  if (a.ip) {
    lines.push(`route del ${a.ip}/32 dev ${a.hostVeth}`);
    lines.push(`rule del to ${a.ip}/32 lookup main priority ${RULE_PRIO_TO_POD}`);
    // Without the table (a primary-ENI pod has none; -force skips the failure): DEL without ADD's record must still find them.
    const n = a.noSnat ? a.noSnat.length : MAX_FROM_RULES;
    for (let i = 0; i < n; i++) lines.push(`rule del from ${a.ip}/32 priority ${RULE_PRIO_FROM_POD}`);
  }
  return lines;
}

// ---- CHECK: compare `ip -j` / `nft -j` output with what ADD made ----

interface IpLink { ifname?: string; flags?: string[]; address?: string; mtu?: number }
interface IpRoute { dst?: string; gateway?: string; dev?: string; scope?: string; table?: string }
interface IpRule { priority?: number; src?: string; srclen?: number; dst?: string; dstlen?: number; table?: string }
interface IpAddr { ifname?: string; addr_info?: { family?: string; local?: string; prefixlen?: number }[] }
interface IpNeigh { dst?: string; lladdr?: string; state?: string[] }

export interface HostObserved { links: IpLink[]; routes: IpRoute[]; rules: IpRule[]; snatComments: string[] }
export interface PodObserved { addrs: IpAddr[]; routes: IpRoute[]; neigh: IpNeigh[] }

const tableName = (t: number): string => (t === MAIN_TABLE ? 'main' : String(t));

export function checkHost(a: Attachment, o: HostObserved): string[] {
  const missing: string[] = [];
  const link = o.links.find((l) => l.ifname === a.hostVeth);
  if (!link) missing.push(`host veth ${a.hostVeth}`);
  else if (!(link.flags ?? []).includes('UP')) missing.push(`host veth ${a.hostVeth} is down`);
  if (!o.routes.some((r) => (r.dst === a.ip || r.dst === `${a.ip}/32`) && r.dev === a.hostVeth)) missing.push(`host route ${a.ip}/32 dev ${a.hostVeth}`);
  if (!o.rules.some((r) => r.priority === RULE_PRIO_TO_POD && r.dst === a.ip && (r.dstlen ?? 32) === 32 && r.table === 'main')) {
    missing.push(`rule to ${a.ip}/32 lookup main priority ${RULE_PRIO_TO_POD}`);
  }
  if (a.routeTable !== MAIN_TABLE) {
    for (const cidr of a.noSnat) {
      const [dst, len] = cidr.split('/');
      const ok = o.rules.some((r) => r.priority === RULE_PRIO_FROM_POD && r.src === a.ip && (r.srclen ?? 32) === 32 && r.dst === dst && r.dstlen === Number(len) && r.table === tableName(a.routeTable));
      if (!ok) missing.push(`rule from ${a.ip}/32 to ${cidr} lookup ${a.routeTable} priority ${RULE_PRIO_FROM_POD}`);
    }
  }
  if (!o.snatComments.includes(snatComment(a.containerId))) missing.push(`SNAT rule for ${a.ip} in ip ${NFT_TABLE} ${NFT_CHAIN}`);
  return missing;
}

export function checkPod(a: Attachment, o: PodObserved): string[] {
  const missing: string[] = [];
  const addr = o.addrs.find((x) => x.ifname === a.ifName);
  if (!addr) return [`${a.ifName} in the pod's netns`];
  if (!(addr.addr_info ?? []).some((i) => i.family === 'inet' && i.local === a.ip && i.prefixlen === 32)) missing.push(`address ${a.ip}/32 on the pod's ${a.ifName}`);
  if (!o.routes.some((r) => r.dst === LINK_GATEWAY && r.scope === 'link')) missing.push(`pod route ${LINK_GATEWAY} scope link`);
  if (!o.routes.some((r) => r.dst === 'default' && r.gateway === LINK_GATEWAY)) missing.push(`pod default route via ${LINK_GATEWAY}`);
  if (!o.neigh.some((n) => n.dst === LINK_GATEWAY && n.lladdr === a.hostMac && (n.state ?? []).includes('PERMANENT'))) {
    missing.push(`pod neighbour ${LINK_GATEWAY} lladdr ${a.hostMac} permanent`);
  }
  return missing;
}
