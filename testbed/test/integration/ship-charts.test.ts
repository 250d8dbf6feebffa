// The charts `npm run package` builds: helm lint, helm template validated by the testbed's API server
// (server-side dry run), bad values rejected naming the field, every chart installed with the objects
// it promises, and one operator upgraded from a lower version with its objects, its AWS resources and
// the other operators' releases kept, and 0 mutating AWS calls from the upgrade.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleChart, packageChart, rbacRules } from '../../../scripts/package/chart.ts';
import { TARGETS, packageVersion, target } from '../../../scripts/package/targets.ts';
import { OperatorProcess, mutatingDelta, repoRoot, waitFor } from '../../src/testing.ts';
import { bundle } from '../../../scripts/package/bundle.ts';
import { CLUSTER, KUBECTL, ensureNamespace, helm, helmReleases, installArgs, kubectlJson, must, run, uninstallAll } from './ship-harness.ts';

const NS = 'kube-iaas-ship';
const UP_NS = 'kube-iaas-ship-upgrade';
const APP_NS = 'ship-upgrade-app';
const charts = new Map<string, string>();
const chartOf = (name: string) => charts.get(name)!;
const template = (name: string, extra: string[] = []) => run(helm, ['template', `ship-${name}`, chartOf(name), '-n', NS, ...installArgs(name, `ship-${name}`), ...extra]);

interface K8sList<T> {
  items: T[];
}
interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string>; generation?: number };
  spec?: Record<string, unknown>;
  rules?: unknown[];
}

// The charts as `npm run package` builds them, and the bundle the upgrade test runs (the images are
// ship-images.test.ts's).
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-iaas-charts-'));
  try {
    for (const t of TARGETS) {
      await assembleChart(t, join(dir, t.name));
      charts.set(t.name, packageChart(helm, join(dir, t.name), t));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await bundle(target('lb-operator'));
  ensureNamespace(NS);
}, 1_800_000);

afterAll(() => {
  uninstallAll(NS);
  uninstallAll(UP_NS);
  run(KUBECTL, ['delete', 'namespace', APP_NS, '--ignore-not-found', '--wait=false']);
});

describe('operator charts', () => {
  it.each(TARGETS.map((t) => t.name))('%s: lints clean and its rendering passes the server-side dry run', (name) => {
    const lint = run(helm, ['lint', chartOf(name), '--strict', ...installArgs(name, `ship-${name}`)]);
    expect(lint.code, lint.out + lint.err).toBe(0);
    expect(lint.out).not.toMatch(/\[(ERROR|WARNING)\]/);
    // Every optional part on: the node halves' DaemonSets as well.
    const extra = name === 'eni-operator' ? ['--set', 'nodeAgent.enabled=true', '--set', 'nodeAgent.vpcCidrs=192.168.192.0/22'] : [];
    const rendered = template(name, ['--include-crds', ...extra]);
    expect(rendered.code, rendered.err).toBe(0);
    const kinds = parseAllDocuments(rendered.out).map((d) => (d.toJS() as Obj | null)?.kind).filter(Boolean);
    expect(kinds).toEqual(expect.arrayContaining(['CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'PodDisruptionBudget', 'Service']));
    if (name === 'volume-operator' || name === 'eni-operator') expect(kinds).toContain('DaemonSet');
    const dry = run(KUBECTL, ['apply', '--dry-run=server', '--server-side', '--field-manager=ship-test', '-f', '-'], rendered.out);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(/deployment\.apps\/ship-\S+ serverside-applied \(server dry run\)/);
    // The optional ServiceMonitor renders (its CRD is the Prometheus Operator's, not in the testbed).
    const sm = template(name, ['--set', 'serviceMonitor.enabled=true']);
    expect(sm.out).toMatch(/kind: ServiceMonitor/);
  });

  it('a bad value is rejected naming the field, before anything is created', () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'flags.workers=0'], /\/flags\/workers.*minimum/],
      [['--set', 'flags.log-level=loud'], /\/flags\/log-level/],
      [['--set', 'flags.orphan-sweep-interval=soon'], /\/flags\/orphan-sweep-interval/],
      [['--set', 'flags.no-such-flag=1'], /no-such-flag/],
      [['--set', 'replicaCount=two'], /\/replicaCount/],
    ];
    for (const [args, message] of cases) {
      const r = run(helm, ['install', 'ship-bad', chartOf('lb-operator'), '-n', NS, ...installArgs('lb-operator', 'ship-bad'), ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err).toMatch(message);
    }
    const noCluster = run(helm, ['install', 'ship-bad', chartOf('lb-operator'), '-n', NS]);
    expect(noCluster.err).toMatch(/clusterName/);
    expect(helmReleases(NS).map((r) => r.name)).not.toContain('ship-bad');
  });

  it.each(TARGETS.map((t) => t.name))('%s: helm install creates what the chart promises', (name) => {
    const full = `ship-${name}`;
    must(helm, ['install', full, chartOf(name), '-n', NS, ...installArgs(name, full)]);
    const version = packageVersion(target(name));
    const dep = kubectlJson<{ spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: { image: string; args: string[]; securityContext: Record<string, unknown>; livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } }; resources: { requests: Record<string, string>; limits: Record<string, string> } }[] } } } }>(['get', 'deployment', full, '-n', NS]);
    expect(dep.spec.replicas).toBe(2);
    const c = dep.spec.template.spec.containers[0]!;
    expect(c.image).toBe(`ghcr.io/kube-iaas/${name}:${version}`);
    expect(c.args).toEqual(expect.arrayContaining([`--cluster-name=${CLUSTER}`, '--leader-elect=true', '--metrics-bind-address=:8080']));
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path]).toEqual(['/healthz', '/readyz']);
    expect(c.resources.requests.memory).toMatch(/Mi$/);
    expect(c.resources.limits.memory).toMatch(/Mi$/);
    const sa = kubectlJson<Obj>(['get', 'serviceaccount', dep.spec.template.spec.serviceAccountName, '-n', NS]);
    expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(`arn:aws-cn:iam::123456789012:role/kube-iaas-${name}`);
    // The ClusterRole holds exactly the rules of the chart's one RBAC file.
    const t = target(name);
    const cr = kubectlJson<Obj>(['get', 'clusterrole', full]);
    expect(cr.rules).toEqual(rbacRules(readFileSync(join(repoRoot(), 'packages', name, t.rbac), 'utf8'), t).clusterRoles.operator);
    const pdb = kubectlJson<Obj>(['get', 'pdb', full, '-n', NS]);
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1 });
    expect(kubectlJson<K8sList<Obj>>(['get', 'rolebinding', '-n', NS, '-l', `app.kubernetes.io/instance=${full}`]).items.length).toBeGreaterThan(0);
    for (const crd of target(name).crds) expect(run(KUBECTL, ['get', 'crd', crd.replace(/\.yaml$/, '')]).code).toBe(0);
    if (name === 'volume-operator') expect(kubectlJson<Obj>(['get', 'daemonset', `${full}-node`, '-n', NS]).kind).toBe('DaemonSet');
    const rel = helmReleases(NS).find((r) => r.name === full)!;
    expect(rel.chart).toBe(`${name}-${version}`);
    expect(rel.app_version).toBe(version);
  });
});

describe('upgrade of one operator', () => {
  const LB = 'lb-operator';
  const REL = 'ship-up-lb';
  const MAIN = join(repoRoot(), 'packages', LB, 'src', 'main.ts');
  const elbv2 = new ElasticLoadBalancingV2Client({});
  let op: OperatorProcess | undefined;
  // Only this test's namespace and no orphan sweep: what other tests left in the testbed is not counted.
  const OP_ARGS = ['--leader-elect=false', '--resync-period=1h', `--namespace=${APP_NS}`, '--orphan-sweep-interval=0'];

  afterAll(async () => {
    if (op && run(KUBECTL, ['get', 'service', 'web', '-n', APP_NS]).code === 0) {
      run(KUBECTL, ['delete', 'service', 'web', '-n', APP_NS, '--wait=true', '--timeout=90s']);
    }
    await op?.stop();
    delete process.env.KUBE_IAAS_OPERATOR_BUNDLE;
  });

  const hostname = () => kubectlJson<{ status?: { loadBalancer?: { ingress?: { hostname?: string }[] } } }>(['get', 'service', 'web', '-n', APP_NS]).status?.loadBalancer?.ingress?.[0]?.hostname;
  const nlbArns = async (dns: string) =>
    ((await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []).filter((l) => l.DNSName === dns).map((l) => l.LoadBalancerArn);
  const others = () =>
    helmReleases(NS).map((r) => {
      const d = kubectlJson<Obj>(['get', 'deployment', r.name, '-n', NS]);
      return { name: r.name, revision: r.revision, chart: r.chart, resourceVersion: d.metadata.resourceVersion, generation: d.metadata.generation };
    });

  it('from a lower version to the current one: objects and AWS resources kept, 0 mutating AWS calls, other operators untouched', async () => {
    const t0 = Date.now();
    const step = (what: string) => console.log(`[upgrade test ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);
    const t = target(LB);
    const current = packageVersion(t);
    // The "previous release", built from this tree at a lower version.
    const previous = '0.0.1';
    const dir = join(repoRoot(), 'dist', '.upgrade-test', LB);
    await assembleChart(t, dir, previous);
    const oldChart = packageChart(helm, dir, t, previous);
    ensureNamespace(UP_NS);
    ensureNamespace(APP_NS);
    must(helm, ['install', REL, oldChart, '-n', UP_NS, ...installArgs(LB, REL)]);
    expect(kubectlJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(['get', 'deployment', REL, '-n', UP_NS]).spec.template.spec.containers[0]!.image).toBe(`ghcr.io/kube-iaas/${LB}:${previous}`);

    // The testbed runs no images: the release's operator is its bundle, run as the pods would run it.
    step('installed the previous release');
    process.env.KUBE_IAAS_OPERATOR_BUNDLE = '1';
    op = await OperatorProcess.start(MAIN, OP_ARGS);
    expect(op.child.spawnargs.some((a) => a.endsWith(join('dist', 'bundle', 'operator.mjs')))).toBe(true);
    must(KUBECTL, ['apply', '-n', APP_NS, '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' } },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
    }));
    step('Service created');
    const dns = await waitFor('the NLB hostname in the Service', () => hostname(), 120_000, 500);
    step('NLB ready');
    const arns = await nlbArns(dns);
    expect(arns).toHaveLength(1);
    const crBefore = kubectlJson<Obj>(['get', 'networkloadbalancers.elb.kube-iaas.dev', 'web', '-n', APP_NS]);
    // The other operators' releases (installed above; when this test runs alone, one installed here).
    if (!helmReleases(NS).length) must(helm, ['install', 'ship-scaler-operator', chartOf('scaler-operator'), '-n', NS, ...installArgs('scaler-operator', 'ship-scaler-operator')]);
    const othersBefore = others();
    expect(othersBefore.length).toBeGreaterThan(0);

    // The rollout: the old pods stop, helm upgrades, the new pods start.
    step('stopping the previous operator');
    await op.stop();
    op = undefined;
    must(helm, ['upgrade', REL, chartOf(LB), '-n', UP_NS, ...installArgs(LB, REL)]);
    const rel = helmReleases(UP_NS).find((r) => r.name === REL)!;
    expect(rel).toMatchObject({ revision: '2', chart: `${LB}-${current}`, app_version: current });
    expect(kubectlJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(['get', 'deployment', REL, '-n', UP_NS]).spec.template.spec.containers[0]!.image).toBe(`ghcr.io/kube-iaas/${LB}:${current}`);

    step('upgraded; starting the new operator');
    op = await OperatorProcess.start(MAIN, OP_ARGS);
    const started = op;
    // Its first pass reads every NetworkLoadBalancer's AWS state; then nothing may have been changed.
    await waitFor('the first reconcile after the upgrade', async () => ((await started.awsCalls())['elbv2:DescribeLoadBalancers:success'] ?? 0) > 0, 120_000, 500);
    step('first reconcile seen');
    await new Promise((r) => setTimeout(r, 3000));
    expect(mutatingDelta({}, await started.awsCalls())).toEqual({});

    expect(hostname()).toBe(dns);
    expect(await nlbArns(dns)).toEqual(arns);
    const crAfter = kubectlJson<Obj>(['get', 'networkloadbalancers.elb.kube-iaas.dev', 'web', '-n', APP_NS]);
    expect(crAfter.metadata).toMatchObject({ name: 'web' });
    expect((crAfter.metadata as { uid?: string }).uid).toBe((crBefore.metadata as { uid?: string }).uid);
    expect(others()).toEqual(othersBefore);

    step('checked; cleaning up');
    // Clean up through the operator, so the NLB goes too.
    must(KUBECTL, ['delete', 'service', 'web', '-n', APP_NS, '--wait=true', '--timeout=120s']);
    await waitFor('the NLB deleted', async () => (await nlbArns(dns)).length === 0, 120_000, 1000);
    step('done');
  }, 900_000);
});
