// The node plugin's DaemonSet: what the plugin is started with must be what its flag parser accepts,
// and the paths the plugin, the registrar and the kubelet use for one socket must agree.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import pkg from '../../../package.json' with { type: 'json' };
import { BUNDLE_NODE_FLAGS } from '../../../scripts/bundle-node.ts';
import { CSI_SPEC_VERSION } from '../../../src/node/csi-spec.ts';
import { parseNodeFlags } from '../../../src/node/flags.ts';
import { DRIVER_NAME } from '../../../src/node/identity.ts';

interface Mount {
  name: string;
  mountPath: string;
  mountPropagation?: string;
  readOnly?: boolean;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  securityContext?: { privileged?: boolean };
  resources?: { requests?: { memory?: string } };
  volumeMounts?: Mount[];
}
interface PodSpec {
  priorityClassName?: string;
  tolerations?: { operator?: string; key?: string }[];
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string } }[];
}

const file = fileURLToPath(new URL('../../../manifests/node-daemonset.yaml', import.meta.url));
const ds = parse(readFileSync(file, 'utf8')) as { kind: string; spec: { template: { spec: PodSpec } } };
const pod = ds.spec.template.spec;
const container = (name: string): Container => {
  const c = pod.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
};
const plugin = container('ebs-plugin');
const registrar = container('node-driver-registrar');
const hostPathOf = (c: Container, mountPath: string): string => {
  const m = c.volumeMounts?.find((v) => v.mountPath === mountPath);
  const path = pod.volumes.find((v) => v.name === m?.name)?.hostPath?.path;
  if (!path) throw new Error(`${c.name} mounts no hostPath at ${mountPath}`);
  return path.replace(/\/$/, '');
};
const flag = (args: string[] | undefined, name: string): string | undefined =>
  args?.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

it('is a DaemonSet on every node, at node-critical priority', () => {
  expect(ds.kind).toBe('DaemonSet');
  expect(pod.priorityClassName).toBe('system-node-critical');
  expect(pod.tolerations).toContainEqual({ operator: 'Exists' });
  expect(pod.tolerations?.every((t) => t.key === undefined)).toBe(true);
});

it('runs the bundle with the V8 flags the bundle is measured with, and flags the plugin parses', () => {
  expect(plugin.image).toBe(`ghcr.io/kube-iaas/volume-operator:${pkg.version}`);
  const [node, ...rest] = plugin.command ?? [];
  expect(node).toBe('node');
  expect(rest.slice(0, -1)).toEqual(BUNDLE_NODE_FLAGS);
  expect(rest.at(-1)).toMatch(/\/node-plugin\.mjs$/);
  const env = Object.fromEntries((plugin.env ?? []).map((e) => [e.name, e.value]));
  // Throws on a flag the parser does not know (strict parseArgs).
  const flags = parseNodeFlags(plugin.args ?? [], env);
  expect(flags.endpoint).toMatch(/^unix:\/\/\//);
  expect(flags.protoPath).toBe(`/opt/kube-iaas/csi-spec-${CSI_SPEC_VERSION}/csi.proto`);
  // Node ID and zone come from instance metadata on a real node.
  expect(flags.nodeId).toBe('');
  expect(flags.deviceRoot).toBe('/dev');
  expect(plugin.securityContext?.privileged).toBe(true);
  expect(plugin.resources?.requests?.memory).toBe('80Mi');
});

it('gives the plugin, the registrar and the kubelet one socket', () => {
  const socket = parseNodeFlags(plugin.args ?? [], {}).endpoint.replace(/^unix:\/\//, '');
  const hostDir = hostPathOf(plugin, join(socket, '..'));
  expect(hostDir).toBe(`/var/lib/kubelet/plugins/${DRIVER_NAME}`);
  expect(flag(registrar.args, 'csi-address')).toBe(socket);
  expect(hostPathOf(registrar, join(socket, '..'))).toBe(hostDir);
  expect(flag(registrar.args, 'kubelet-registration-path')).toBe(join(hostDir, basename(socket)));
  expect(hostPathOf(registrar, '/registration')).toBe('/var/lib/kubelet/plugins_registry');
  expect(registrar.image).toMatch(/^registry\.k8s\.io\/sig-storage\/csi-node-driver-registrar:v\d+\.\d+\.\d+$/);
});

it('shares the kubelet directory with Bidirectional propagation, and the devices', () => {
  const kubelet = plugin.volumeMounts?.find((m) => m.mountPath === '/var/lib/kubelet');
  expect(kubelet?.mountPropagation).toBe('Bidirectional');
  expect(hostPathOf(plugin, '/var/lib/kubelet')).toBe('/var/lib/kubelet');
  expect(hostPathOf(plugin, '/dev')).toBe('/dev');
  expect(hostPathOf(plugin, '/sys')).toBe('/sys');
});
