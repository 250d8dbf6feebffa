// One operator's Helm chart, assembled from the shared templates (scripts/package/chart), the package's
// own additions (packages/<op>/chart: values, schema fragment, templates such as a node DaemonSet), the
// CRD from packages/crds/generated (crds/: created by helm install, never deleted by helm uninstall;
// the operator's --install-crds keeps it current on upgrade) and the RBAC rules in files/rbac-rules.yaml.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parseDocument, stringify, type Scalar, type YAMLMap } from 'yaml';
import { runtimeFlags, type FlagSpecs } from '@kube-iaas/core/runtime';
import { repoRoot } from '../../testbed/src/paths.ts';
import { chartFlags, flagsYaml } from './chart-values.ts';
import { imageName } from './image.ts';
import { distDir, packageDir, packageVersion, type ShipTarget } from './targets.ts';

const SHARED = join(dirname(fileURLToPath(import.meta.url)), 'chart');

export function chartFile(t: ShipTarget, version = packageVersion(t)): string {
  return join(distDir(), 'charts', `${t.name}-${version}.tgz`);
}

export async function operatorFlags(t: ShipTarget): Promise<FlagSpecs> {
  const mod = (await import(join(packageDir(t), t.flags.module))) as Record<string, FlagSpecs>;
  const own = mod[t.flags.export];
  if (!own) throw new Error(`${t.flags.module} exports no ${t.flags.export}`);
  return { ...runtimeFlags, ...own };
}

/** ClusterRoles and Roles of a manifest as `{clusterRoles: {suffix: rules}, roles: {suffix: rules}}`. */
export function rbacRules(manifest: string, t: ShipTarget): { clusterRoles: Record<string, unknown>; roles: Record<string, unknown> } {
  const out = { clusterRoles: {} as Record<string, unknown>, roles: {} as Record<string, unknown> };
  const stem = `kube-iaas-${t.name}`;
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJS() as { kind?: string; metadata?: { name?: string }; rules?: unknown[] } | null;
    if (!o || (o.kind !== 'ClusterRole' && o.kind !== 'Role')) continue;
    const name = o.metadata?.name ?? '';
    const suffix = name === stem ? 'operator' : name.startsWith(`${stem}-`) ? name.slice(stem.length + 1) : name;
    (o.kind === 'ClusterRole' ? out.clusterRoles : out.roles)[suffix] = o.rules ?? [];
  }
  if (!Object.keys(out.clusterRoles).length) throw new Error(`${t.rbac} of ${t.name} has no ClusterRole`);
  return out;
}

function mergeSchema(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const props = { ...(base.properties as Record<string, unknown>), ...((extra.properties as Record<string, unknown> | undefined) ?? {}) };
  return { ...base, properties: props, required: [...((base.required as string[] | undefined) ?? []), ...((extra.required as string[] | undefined) ?? [])] };
}

/** The shared values with the package's top-level keys set over them; comments of both kept. */
function mergeValues(shared: string, ownFile: string): string {
  const doc = parseDocument(shared);
  if (existsSync(ownFile)) {
    for (const pair of (parseDocument(readFileSync(ownFile, 'utf8')).contents as YAMLMap).items) {
      const key = pair.key as Scalar;
      doc.set(key.value, pair.value);
      const set = (doc.contents as YAMLMap).items.find((p) => (p.key as Scalar).value === key.value);
      if (set && key.commentBefore) (set.key as Scalar).commentBefore = key.commentBefore;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** Writes the chart's source tree into `dir` (what `helm package` packs). */
export async function assembleChart(t: ShipTarget, dir: string, version = packageVersion(t)): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'templates'), { recursive: true });
  mkdirSync(join(dir, 'crds'), { recursive: true });
  mkdirSync(join(dir, 'files'), { recursive: true });
  const own = join(packageDir(t), 'chart');
  writeFileSync(
    join(dir, 'Chart.yaml'),
    stringify({
      apiVersion: 'v2',
      name: t.name,
      description: `kube-iaas ${t.name}: ${t.description}`,
      type: 'application',
      version,
      appVersion: version,
      kubeVersion: '>=1.29.0-0',
      home: 'https://github.com/kube-iaas/kube-iaas',
      sources: [`https://github.com/kube-iaas/kube-iaas/tree/main/packages/${t.name}`],
      keywords: ['aws', 'kube-iaas', 'operator'],
      annotations: { 'kube-iaas.dev/image': `${imageName(t)}:${version}` },
    }),
  );
  cpSync(join(SHARED, 'templates'), join(dir, 'templates'), { recursive: true });
  if (existsSync(join(own, 'templates'))) cpSync(join(own, 'templates'), join(dir, 'templates'), { recursive: true });
  for (const crd of t.crds) copyFileSync(join(repoRoot(), 'packages', 'crds', 'generated', 'crds', crd), join(dir, 'crds', crd));
  writeFileSync(
    join(dir, 'files', 'rbac-rules.yaml'),
    `# Generated from packages/${t.name}/${t.rbac} by scripts/package/chart.ts; the chart's RBAC is this file.\n` +
      stringify(rbacRules(readFileSync(join(packageDir(t), t.rbac), 'utf8'), t)),
  );
  const flags = chartFlags(await operatorFlags(t));
  writeFileSync(join(dir, 'values.yaml'), `${mergeValues(readFileSync(join(SHARED, 'values.yaml'), 'utf8').replace('__NAME__', t.name), join(own, 'values.yaml'))}\n${flagsYaml(flags.values, flags.descriptions)}`);
  let schema = mergeSchema(JSON.parse(readFileSync(join(SHARED, 'values.schema.json'), 'utf8')) as Record<string, unknown>, { properties: { flags: flags.schema } });
  if (existsSync(join(own, 'values.schema.json'))) schema = mergeSchema(schema, JSON.parse(readFileSync(join(own, 'values.schema.json'), 'utf8')) as Record<string, unknown>);
  writeFileSync(join(dir, 'values.schema.json'), JSON.stringify(schema, null, 2) + '\n');
  writeFileSync(join(dir, '.helmignore'), '*.tmp\n');
  if (!readdirSync(join(dir, 'crds')).length) throw new Error(`no CRD for ${t.name}`);
}

/** `helm package` into dist/charts; returns the .tgz path. */
export function packageChart(helm: string, chartDir: string, t: ShipTarget, version = packageVersion(t)): string {
  mkdirSync(join(distDir(), 'charts'), { recursive: true });
  execFileSync(helm, ['package', chartDir, '--destination', join(distDir(), 'charts')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const file = chartFile(t, version);
  if (!existsSync(file)) throw new Error(`helm package left no ${file}`);
  return file;
}

export function helmBinary(): string {
  const out = execFileSync(join(repoRoot(), 'testbed', 'scripts', 'build-helm.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}
