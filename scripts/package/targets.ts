// What ships for each operator: the bundle's entry points, the chart's node halves, the chart's
// description. One table, read by the bundler, the image builder, the chart builder and the tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../testbed/src/paths.ts';

export interface Entry {
  /** Bundle file name without extension: `dist/bundle/<name>.mjs`, `/opt/kube-iaas/<name>.mjs` in the image. */
  name: string;
  /** Source entry point, relative to the package. */
  src: string;
}

export interface ShipTarget {
  /** Folder under packages/, also the image, chart and release name stem. */
  name: string;
  /** The CRD file(s) under packages/crds/generated/ the chart carries. */
  crds: string[];
  entries: Entry[];
  description: string;
  /** Where the operator's flag specs are exported (the chart's `flags` values and their schema come from them). */
  flags: { module: string; export: string };
  /** The RBAC the chart grants, taken from this manifest's ClusterRoles and Roles (one file per chart). */
  rbac: string;
}

export const TARGETS: readonly ShipTarget[] = [
  {
    name: 'volume-operator',
    flags: { module: 'src/operator.ts', export: 'volumeFlags' },
    rbac: 'generated/rbac.yaml',
    crds: ['awsvolumes.storage.kube-iaas.dev.yaml'],
    entries: [
      { name: 'operator', src: 'src/main.ts' },
      { name: 'node-plugin', src: 'src/node/main.ts' },
    ],
    description: 'StorageClass + PVC -> AwsVolume -> EBS volumes, with the CSI node plugin as a DaemonSet',
  },
  {
    name: 'eni-operator',
    flags: { module: 'src/operator.ts', export: 'eniFlags' },
    rbac: 'generated/rbac.yaml',
    crds: ['enipools.network.kube-iaas.dev.yaml'],
    entries: [
      { name: 'operator', src: 'src/main.ts' },
      { name: 'eni-agent', src: 'src/node/agent.ts' },
      { name: 'cni-plugin', src: 'src/node/plugin.ts' },
    ],
    description: 'Node + Pods -> EniPool -> ENIs, secondary IPs and pod IPs, with the CNI node agent as a DaemonSet',
  },
  {
    name: 'lb-operator',
    flags: { module: 'src/operator.ts', export: 'lbFlags' },
    rbac: 'generated/rbac.yaml',
    crds: ['networkloadbalancers.elb.kube-iaas.dev.yaml'],
    entries: [{ name: 'operator', src: 'src/main.ts' }],
    description: 'Service type LoadBalancer -> NetworkLoadBalancer -> NLB, listeners and target groups',
  },
  {
    name: 'ingress-operator',
    flags: { module: 'src/operator.ts', export: 'ingressFlags' },
    rbac: 'generated/rbac.yaml',
    crds: ['applicationloadbalancers.elb.kube-iaas.dev.yaml'],
    entries: [{ name: 'operator', src: 'src/main.ts' }],
    description: 'Ingress (class alb) -> ApplicationLoadBalancer -> ALB, rules, target groups and security groups',
  },
  {
    name: 'scaler-operator',
    flags: { module: 'src/config.ts', export: 'scalerFlags' },
    rbac: 'generated/rbac.yaml',
    crds: ['nodegroups.autoscaling.kube-iaas.dev.yaml'],
    entries: [{ name: 'operator', src: 'src/main.ts' }],
    description: 'pending Pods -> NodeGroup -> Auto Scaling Group size',
  },
];

export function target(name: string): ShipTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown operator "${name}"; one of ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}

export function packageDir(t: ShipTarget): string {
  return join(repoRoot(), 'packages', t.name);
}

/** The package's own version (package.json); chart version, appVersion and image tag follow it. */
export function packageVersion(t: ShipTarget): string {
  return (JSON.parse(readFileSync(join(packageDir(t), 'package.json'), 'utf8')) as { version: string }).version;
}

export function bundlePath(t: ShipTarget, entry: string): string {
  return join(packageDir(t), 'dist', 'bundle', `${entry}.mjs`);
}

export function distDir(): string {
  return process.env.KUBE_IAAS_DIST_DIR ?? join(repoRoot(), 'dist');
}
