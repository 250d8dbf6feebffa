// The node agent (DaemonSet, host network, NET_ADMIN): installs the plugin, brings the pool's secondary
// ENIs up as links with their route tables, creates the SNAT chain, and answers the plugin's grant
// requests over a unix socket.
import { parseArgs } from 'node:util';
import { isCidr } from './cni.ts';
import { nftScript } from './sys.ts';
import { installPlugin } from './agent/install.ts';
import { ensureEniLinks } from './agent/links.ts';
import { startGrantServer } from './agent/server.ts';
import { fileSource, type ViewSource } from './agent/sources.ts';
import { nftBaseScript } from './wiring.ts';

const { values: f } = parseArgs({
  options: {
    'node-name': { type: 'string', default: process.env['NODE_NAME'] ?? '' },
    'grants-file': { type: 'string' },
    'vpc-cidrs': { type: 'string', default: '' },
    'primary-ip': { type: 'string' },
    'kube-api-server': { type: 'string' },
    'kube-api-socket': { type: 'string' },
    'kube-ca-file': { type: 'string' },
    'kube-client-cert-file': { type: 'string' },
    'kube-client-key-file': { type: 'string' },
    'kube-token-file': { type: 'string' },
    socket: { type: 'string', default: '/run/kube-iaas/eni-agent.sock' },
    'cni-bin-dir': { type: 'string', default: '/opt/cni/bin' },
    'cni-conf-dir': { type: 'string', default: '/etc/cni/net.d' },
    'state-dir': { type: 'string', default: '/var/lib/cni/kube-iaas' },
    'compile-cache-dir': { type: 'string', default: '/var/cache/kube-iaas/node-compile-cache' },
    'network-name': { type: 'string', default: 'kube-iaas' },
    mtu: { type: 'string', default: '9001' },
    'grant-timeout': { type: 'string', default: '30' },
    'exclude-snat-cidrs': { type: 'string', default: '' },
  },
});

function fail(msg: string): never {
  process.stderr.write(`eni-agent: ${msg}\n`);
  process.exit(2);
}

const mtu = Number(f.mtu);
if (!Number.isInteger(mtu) || mtu < 576) fail(`--mtu must be an integer ≥ 576, got ${f.mtu}`);
const grantTimeoutSeconds = Number(f['grant-timeout']);
if (!(grantTimeoutSeconds > 0)) fail(`--grant-timeout must be a positive number of seconds, got ${f['grant-timeout']}`);
const excludeSnatCidrs = f['exclude-snat-cidrs'] ? f['exclude-snat-cidrs'].split(',').map((s) => s.trim()) : [];
for (const c of excludeSnatCidrs) if (!isCidr(c)) fail(`--exclude-snat-cidrs: ${c} is not an IPv4 CIDR`);
const vpcCidrs = f['vpc-cidrs'] ? f['vpc-cidrs'].split(',').map((s) => s.trim()) : [];
for (const c of vpcCidrs) if (!isCidr(c)) fail(`--vpc-cidrs: ${c} is not an IPv4 CIDR`);
if (!f['grants-file'] && !f['node-name']) fail('--node-name (or NODE_NAME) is required to watch this node\'s pods and EniPool');
if (!f['grants-file'] && !vpcCidrs.length) fail('--vpc-cidrs is required with the Kubernetes source (traffic to them keeps the pod\'s address)');

// The file source serves namespace tests without a cluster; otherwise the pod watch of this node.
const source: ViewSource = f['grants-file']
  ? fileSource(f['grants-file'])
  : await startKubeSource();

async function startKubeSource(): Promise<ViewSource> {
  const [{ kubeSource }, { connFromFlags }] = await Promise.all([import('./agent/kube-source.ts'), import('./agent/kube-watch.ts')]);
  let conn;
  try {
    conn = connFromFlags({ server: f['kube-api-server'], socketPath: f['kube-api-socket'], caFile: f['kube-ca-file'], certFile: f['kube-client-cert-file'], keyFile: f['kube-client-key-file'], tokenFile: f['kube-token-file'] });
  } catch (err) {
    fail((err as Error).message);
  }
  return kubeSource({ nodeName: f['node-name'], vpcCidrs, ...(f['primary-ip'] ? { primaryIp: f['primary-ip'] } : {}) }, conn);
}
const done = new Set<string>();
let problems = new Map<string, string>();
const refreshLinks = (): void => {
  const v = source.current();
  if (v) problems = ensureEniLinks(v, mtu, done);
};
source.onChange(refreshLinks);
refreshLinks();

nftScript(nftBaseScript());
const installed = installPlugin({
  networkName: f['network-name'],
  binDir: f['cni-bin-dir'],
  confDir: f['cni-conf-dir'],
  socket: f.socket,
  stateDir: f['state-dir'],
  mtu,
  grantTimeoutSeconds,
  excludeSnatCidrs,
  compileCacheDir: f['compile-cache-dir'],
});
const server = await startGrantServer(f.socket, {
  source,
  linkProblem: (eniId) => {
    // A link may appear after the ENI was recorded (attachment is asynchronous): look again before refusing.
    if (problems.has(eniId)) refreshLinks();
    return problems.get(eniId);
  },
  maxWaitMs: 120_000,
});
process.stdout.write(JSON.stringify({ msg: 'eni-agent ready', node: f['node-name'], socket: f.socket, ...installed }) + '\n');

const stop = (): void => {
  source.stop();
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
