// A VPC made only of network namespaces this test run creates: one "VPC" namespace with a bridge per
// subnet holding the subnet's gateway address, a "router" namespace beyond it playing outside the VPC,
// and node namespaces whose ENIs are veth links into those bridges. No link reaches the machine's real
// interfaces; everything is torn down by deleting the namespaces.
import { spawnSync } from 'node:child_process';

export interface Sh { status: number; stdout: string; stderr: string }

export function sh(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Sh {
  const r = spawnSync(cmd, args, { input: opts.input, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export function must(cmd: string, args: string[], input?: string): string {
  const r = sh(cmd, args, { input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** `ip -batch` in a named netns (or the current one). */
export function ipIn(ns: string | undefined, lines: string[]): void {
  must('ip', [...(ns ? ['-n', ns] : []), '-batch', '-'], lines.join('\n') + '\n');
}

export function exec(ns: string, args: string[]): Sh {
  return sh('ip', ['netns', 'exec', ns, ...args]);
}

export function sysctl(ns: string, kv: string[]): void {
  for (const x of kv) must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', x]);
}

export function netnsList(): string[] {
  return sh('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

export interface Topology {
  prefix: string;
  vpc: string;
  router: string;
  nodes: Record<string, string>;
  outsideIp: string;
  namespaces: string[];
}

export interface NodeSpec {
  key: string;
  /** Bridge (subnet) key in the VPC namespace. */
  subnet: string;
  primaryIp: string;
  prefixLen: number;
  gateway: string;
  /** ENI links by device index: [name in node ns, MAC]; index 0 is the primary ENI and carries primaryIp. */
  enis: [string, string][];
}

/** `created` gets each namespace as soon as it exists, so the caller can delete them all even if building fails halfway. */
export function buildTopology(prefix: string, subnets: Record<string, string>, nodes: NodeSpec[], created: string[]): Topology {
  const t: Topology = { prefix, vpc: `${prefix}-vpc`, router: `${prefix}-rtr`, nodes: {}, outsideIp: '203.0.113.10', namespaces: created };
  const addNs = (n: string): void => {
    must('ip', ['netns', 'add', n]);
    t.namespaces.push(n);
    ipIn(n, ['link set lo up']);
  };
  addNs(t.vpc);
  addNs(t.router);
  sysctl(t.vpc, ['net.ipv4.ip_forward=1']);
  for (const [key, gwCidr] of Object.entries(subnets)) {
    ipIn(t.vpc, [`link add br-${key} type bridge`, `addr add ${gwCidr} dev br-${key}`, `link set br-${key} up`]);
  }
  // VPC ↔ outside: a /30 of link-local addresses; the router holds the "outside" address on lo.
  ipIn(t.vpc, [`link add to-rtr type veth peer name to-vpc netns ${t.router}`, 'addr add 169.254.255.1/30 dev to-rtr', 'link set to-rtr up', 'route add default via 169.254.255.2']);
  ipIn(t.router, ['addr add 169.254.255.2/30 dev to-vpc', 'link set to-vpc up', `addr add ${t.outsideIp}/32 dev lo`, 'route add 192.168.192.0/22 via 169.254.255.1']);
  for (const n of nodes) {
    const ns = `${prefix}-${n.key}`;
    t.nodes[n.key] = ns;
    addNs(ns);
    sysctl(ns, ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    n.enis.forEach(([link, mac], i) => {
      const vpcSide = `${n.key}e${i}`;
      ipIn(t.vpc, [`link add ${vpcSide} type veth peer name ${link} address ${mac} netns ${ns}`, `link set ${vpcSide} master br-${n.subnet}`, `link set ${vpcSide} up`]);
      // Secondary ENIs stay down and without address: bringing them up is the agent's job.
      // The VPC answers ARP for pod addresses at once (the kernel delays proxy replies up to 0.8 s by default).
      sysctl(ns, [`net.ipv4.neigh.${link}.proxy_delay=0`]);
      if (i === 0) ipIn(ns, [`addr add ${n.primaryIp}/${n.prefixLen} dev ${link}`, `link set ${link} up`, `route add default via ${n.gateway} dev ${link}`]);
    });
  }
  return t;
}

/**
 * The VPC's part of a pod address: AWS's fabric delivers a secondary address to the ENI that holds it;
 * on the bridge, the node answers ARP for it on that ENI's link (a proxy neighbour entry).
 */
export function vpcDeliver(nodeNs: string, ip: string, link: string): void {
  ipIn(nodeNs, [`neigh replace proxy ${ip} dev ${link}`]);
}

export function destroy(names: string[]): void {
  for (const n of names) sh('ip', ['netns', 'del', n]);
}

export function ping(fromNs: string, to: string, count = 1): boolean {
  return exec(fromNs, ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', to]).status === 0;
}

export function txPackets(ns: string, link: string): number {
  const j = JSON.parse(must('ip', ['-n', ns, '-j', '-s', 'link', 'show', 'dev', link])) as { stats64?: { tx?: { packets?: number } } }[];
  return j[0]?.stats64?.tx?.packets ?? 0;
}

/** What a node namespace holds that ADD may touch, for before/after comparisons (no counters). */
export function snapshot(ns: string): string {
  const links = (JSON.parse(must('ip', ['-n', ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).sort();
  const routes = must('ip', ['-n', ns, 'route', 'show', 'table', 'all']).split('\n').filter((l) => !/^(local|broadcast|multicast) /.test(l)).sort();
  const rules = must('ip', ['-n', ns, 'rule', 'show']);
  const nft = exec(ns, ['nft', 'list', 'ruleset']).stdout;
  return JSON.stringify({ links, routes, rules, nft }, null, 1);
}
