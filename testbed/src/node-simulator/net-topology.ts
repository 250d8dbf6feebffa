// The VPC as network namespaces, for the CNI the simulator runs: one "VPC" namespace with a bridge per
// subnet holding the subnet's gateway (base + 1, as in AWS), a router namespace beyond it holding an
// "outside" address, and one namespace per node whose ENIs (MACs from moto) are veth links into the
// bridges. No link leads to the machine's own namespace, so 192.168.x traffic stays among these.
// Every name starts with the testbed's prefix: teardown finds what a killed run left by that prefix alone.
import { spawnSync } from 'node:child_process';

export const OUTSIDE_IP = '203.0.113.10';

export function sh(cmd: string, args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(cmd: string, args: string[], input?: string): string {
  const r = sh(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r.stdout;
}

/** `ip -batch` in a namespace; `-force` so one line that fails does not stop the rest. */
export function ipIn(ns: string, lines: string[], force = false): void {
  if (lines.length) must('ip', ['-n', ns, ...(force ? ['-force'] : []), '-batch', '-'], lines.join('\n') + '\n');
}

export function netnsList(): string[] {
  return sh('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/** Deletes every namespace whose name starts with `prefix-` (their links and nft tables go with them). */
export function removeNamespaces(prefix: string): number {
  const mine = netnsList().filter((n) => n.startsWith(`${prefix}-`));
  // Pods' and nodes' first: their veth peers in the VPC namespace go with them.
  for (const n of mine.sort((a, b) => Number(a.endsWith('-vpc') || a.endsWith('-rtr')) - Number(b.endsWith('-vpc') || b.endsWith('-rtr')))) sh('ip', ['netns', 'del', n]);
  return mine.length;
}

const toInt = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** The subnet's gateway address, as AWS places it: base + 1. */
export function gatewayOf(cidr: string): { gateway: string } {
  const [base] = cidr.split('/') as [string, string];
  return { gateway: toIp(toInt(base) + 1) };
}

export interface EniLink {
  eniId: string;
  deviceIndex: number;
  mac: string;
  subnetCidr: string;
  primaryIp: string;
  secondaryIps: string[];
}

interface NodeNet {
  ns: string;
  key: number;
  /** ENI ID → link name in the node namespace, and the proxy entries (secondary addresses) made on it. */
  links: Map<string, { link: string; vpcSide: string; proxied: Set<string> }>;
}

export class NetTopology {
  readonly vpc: string;
  readonly router: string;
  private readonly bridges = new Map<string, string>();
  private readonly nodes = new Map<string, NodeNet>();
  private nextKey = 1;
  private readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.vpc = `${prefix}-vpc`;
    this.router = `${prefix}-rtr`;
  }

  private addNs(name: string): void {
    must('ip', ['netns', 'add', name]);
    ipIn(name, ['link set lo up']);
  }

  private sysctl(ns: string, kv: string[]): void {
    for (const x of kv) must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', x]);
  }

  /** VPC and router namespaces; what a killed run left under the prefix is removed first. */
  create(vpcCidrs: string[]): void {
    removeNamespaces(this.prefix);
    this.addNs(this.vpc);
    this.addNs(this.router);
    this.sysctl(this.vpc, ['net.ipv4.ip_forward=1']);
    // VPC ↔ outside over a link-local /30; the router holds the "outside" address on lo.
    ipIn(this.vpc, [`link add to-rtr type veth peer name to-vpc netns ${this.router}`, 'addr add 169.254.255.1/30 dev to-rtr', 'link set to-rtr up', 'route add default via 169.254.255.2']);
    ipIn(this.router, ['addr add 169.254.255.2/30 dev to-vpc', 'link set to-vpc up', `addr add ${OUTSIDE_IP}/32 dev lo`, ...vpcCidrs.map((c) => `route add ${c} via 169.254.255.1`)]);
  }

  ensureSubnet(cidr: string): void {
    if (this.bridges.has(cidr)) return;
    const br = `br${this.bridges.size}`;
    const { gateway } = gatewayOf(cidr);
    // Addresses as /32 with a route for the subnet: moto hands out the subnet's last address as a pod address
    // (AWS reserves it), which a /24 would make a broadcast address here.
    ipIn(this.vpc, [`link add ${br} type bridge`, `addr add ${gateway}/32 dev ${br}`, `link set ${br} up`, `route add ${cidr} dev ${br} src ${gateway}`]);
    this.bridges.set(cidr, br);
  }

  nodeNs(nodeName: string): string | undefined {
    return this.nodes.get(nodeName)?.ns;
  }

  addNode(nodeName: string, ns: string): void {
    if (this.nodes.has(nodeName)) return;
    this.addNs(ns);
    this.nodes.set(nodeName, { ns, key: this.nextKey++, links: new Map() });
    this.sysctl(ns, ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
  }

  removeNode(nodeName: string): void {
    const n = this.nodes.get(nodeName);
    if (!n) return;
    this.nodes.delete(nodeName);
    sh('ip', ['netns', 'del', n.ns]);
  }

  /**
   * Makes the node's links match its attached ENIs: a new ENI gets a link with its MAC (down and without
   * address unless it is the primary: bringing it up is the eni agent's job); a detached one loses it.
   * The VPC's part — delivering a secondary address to the ENI that holds it — is a proxy neighbour entry
   * on that ENI's link, so the node answers ARP for it on the bridge.
   */
  syncEnis(nodeName: string, enis: EniLink[]): void {
    const n = this.nodes.get(nodeName);
    if (!n) return;
    const want = new Set(enis.map((e) => e.eniId));
    for (const [id, l] of n.links) {
      if (want.has(id)) continue;
      sh('ip', ['-n', this.vpc, 'link', 'del', l.vpcSide]);
      n.links.delete(id);
    }
    for (const e of enis) {
      let l = n.links.get(e.eniId);
      if (!l) {
        this.ensureSubnet(e.subnetCidr);
        const link = `eth${e.deviceIndex}`;
        const vpcSide = `n${n.key}e${e.deviceIndex}`;
        // A link of the same name left by an ENI detached and re-attached between two polls.
        sh('ip', ['-n', this.vpc, 'link', 'del', vpcSide]);
        ipIn(this.vpc, [`link add ${vpcSide} type veth peer name ${link} address ${e.mac} netns ${n.ns}`, `link set ${vpcSide} master ${this.bridges.get(e.subnetCidr)}`, `link set ${vpcSide} up`]);
        this.sysctl(n.ns, [`net.ipv4.neigh.${link}.proxy_delay=0`]);
        if (e.deviceIndex === 0) {
          const { gateway } = gatewayOf(e.subnetCidr);
          ipIn(n.ns, [`addr add ${e.primaryIp}/32 dev ${link}`, `link set ${link} up`, `route add ${e.subnetCidr} dev ${link} src ${e.primaryIp}`, `route add default via ${gateway} dev ${link}`]);
        }
        l = { link, vpcSide, proxied: new Set() };
        n.links.set(e.eniId, l);
      }
      const ips = new Set(e.secondaryIps);
      const lines: string[] = [];
      for (const ip of ips) if (!l.proxied.has(ip)) lines.push(`neigh replace proxy ${ip} dev ${l.link}`);
      for (const ip of l.proxied) if (!ips.has(ip)) lines.push(`neigh del proxy ${ip} dev ${l.link}`);
      ipIn(n.ns, lines, true);
      l.proxied = ips;
    }
  }

  destroy(): void {
    removeNamespaces(this.prefix);
    this.nodes.clear();
    this.bridges.clear();
  }
}
