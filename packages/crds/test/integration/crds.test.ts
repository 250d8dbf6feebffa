// The CRDs on a real kube-apiserver (the testbed): they install and become Established, show in
// `kubectl get kube-iaas`, and the API server itself refuses bad objects with messages naming the field.
// Bad and good objects are sent with dryRun=All, so nothing is stored and no operator sees them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApiException, ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS, crdManifests, installCrds } from '../../src/index.ts';
import type { KindName } from '../../src/index.ts';
import { CATEGORY_TEXT, FIXTURES, albGood, awsVolumeGood, eniPoolGood, nlbGood, nodeGroupGood } from '../fixtures.ts';

const run = promisify(execFile);
const NAMESPACE = 'default';
const PREFIX = 'crds-it';

let kc: KubeConfig;
let objects: CustomObjectsApi;

async function kubectl(...args: string[]): Promise<string> {
  const { env } = testbedEnv();
  const bin = env.KUBECTL;
  if (!bin) throw new Error('testbed env has no KUBECTL');
  const { stdout } = await run(bin, args, { env: { ...process.env, KUBECONFIG: env.KUBECONFIG } });
  return stdout;
}

function body(kind: KindName, name: string, spec: unknown): Record<string, unknown> {
  const k = KINDS[kind];
  return {
    apiVersion: k.apiVersion,
    kind: k.kind,
    metadata: { name, ...(k.scope === 'Namespaced' ? { namespace: NAMESPACE } : {}), labels: { 'kube-iaas.dev/test': PREFIX } },
    spec,
  };
}

/** Creates (dry run unless told otherwise) and returns the API server's object or its error message. */
async function create(kind: KindName, name: string, spec: unknown, dryRun = true): Promise<{ ok: true; obj: unknown } | { ok: false; code: number; message: string }> {
  const k = KINDS[kind];
  const common = { group: k.group, version: k.version, plural: k.plural, body: body(kind, name, spec), fieldValidation: 'Strict', ...(dryRun ? { dryRun: 'All' } : {}) };
  try {
    const obj =
      k.scope === 'Namespaced'
        ? await objects.createNamespacedCustomObject({ ...common, namespace: NAMESPACE })
        : await objects.createClusterCustomObject(common);
    return { ok: true, obj };
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    return { ok: false, code: e.code, message: statusMessage(e.body) };
  }
}

/**
 * The per-field parts of an API server "is invalid" message:
 * `X "n" is invalid: [spec.a: Invalid value: 0: …, spec.b: Required value]` → ['spec.a: Invalid value: 0: …', 'spec.b: Required value'].
 */
function fieldMessages(message: string): string[] {
  const list = message.replace(/^.*? is invalid: /, '').replace(/^\[(.*)\]$/, '$1');
  return list.split(/, (?=(?:spec|status|metadata|<nil>)[^ ]*: )/);
}

function statusMessage(b: unknown): string {
  const parsed = typeof b === 'string' ? (JSON.parse(b) as { message?: string }) : (b as { message?: string });
  return parsed?.message ?? String(b);
}

async function remove(kind: KindName, name: string): Promise<void> {
  const k = KINDS[kind];
  const p = { group: k.group, version: k.version, plural: k.plural, name };
  try {
    if (k.scope === 'Namespaced') await objects.deleteNamespacedCustomObject({ ...p, namespace: NAMESPACE });
    else await objects.deleteClusterCustomObject(p);
  } catch (e) {
    if (!(e instanceof ApiException && e.code === 404)) throw e;
  }
}

const GOOD: Record<KindName, unknown> = {
  AwsVolume: { ...awsVolumeGood, volumeId: 'vol-0123456789abcdef0' },
  EniPool: { ...eniPoolGood, instanceId: 'i-00000000000000000' },
  NetworkLoadBalancer: { ...nlbGood, serviceRef: { name: `${PREFIX}-no-such-service` } },
  ApplicationLoadBalancer: albGood,
  NodeGroup: { ...nodeGroupGood, asgName: `${PREFIX}-no-such-asg` },
};

beforeAll(async () => {
  kc = testbedKubeConfig();
  objects = kc.makeApiClient(CustomObjectsApi);
  await installCrds(kc);
});

describe('installCrds', () => {
  it('leaves every CRD Established with the schema from the sources, and is idempotent', async () => {
    const again = await installCrds(kc, { timeoutMs: 30_000 });
    expect(again.map((c) => c.kind).sort()).toEqual(Object.keys(KINDS).sort());
    const api = kc.makeApiClient(ApiextensionsV1Api);
    for (const m of crdManifests()) {
      const crd = await api.readCustomResourceDefinition({ name: m.metadata.name });
      expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
      expect(crd.spec.names.categories).toEqual(['kube-iaas']);
    }
    // The stored schema is exactly the generated one, CEL rules included (client-node's models would have
    // renamed x-kubernetes-* keys; installCrds sends the raw manifest).
    const stored = JSON.parse(await kubectl('get', 'crd', '-l', 'app.kubernetes.io/part-of=kube-iaas', '-o', 'json')) as {
      items: { metadata: { name: string }; spec: { versions: { schema: unknown; additionalPrinterColumns: unknown }[] } }[];
    };
    for (const m of crdManifests()) {
      const got = stored.items.find((i) => i.metadata.name === m.metadata.name);
      expect(got?.spec.versions[0]?.schema).toEqual(m.spec.versions[0]?.schema);
      expect(got?.spec.versions[0]?.additionalPrinterColumns).toEqual(m.spec.versions[0]?.additionalPrinterColumns);
    }
  });

  it('installs a subset by kind and refuses unknown kinds', async () => {
    const one = await installCrds(kc, { kinds: ['NodeGroup'] });
    expect(one.map((c) => c.name)).toEqual(['nodegroups.autoscaling.kube-iaas.dev']);
    await expect(installCrds(kc, { kinds: ['Nope'] })).rejects.toThrow(/unknown kind/);
  });
});

describe('kubectl', () => {
  const created: [KindName, string][] = [];
  afterAll(async () => {
    for (const [kind, name] of created) await remove(kind, name);
  });

  it('lists the five resources in the kube-iaas category', async () => {
    const out = await kubectl('api-resources', '--categories', 'kube-iaas', '-o', 'name');
    expect(out.trim().split('\n').sort()).toEqual(crdManifests().map((c) => c.metadata.name).sort());
  });

  it('shows one object of every kind in `kubectl get kube-iaas`', async () => {
    for (const kind of Object.keys(KINDS) as KindName[]) {
      const name = `${PREFIX}-category-${kind.toLowerCase()}`;
      await remove(kind, name);
      const r = await create(kind, name, GOOD[kind], false);
      expect(r.ok ? '' : r.message).toBe('');
      created.push([kind, name]);
    }
    const out = await kubectl('get', 'kube-iaas', '-A', '-o', 'name', '-l', `kube-iaas.dev/test=${PREFIX}`);
    for (const kind of Object.keys(KINDS) as KindName[]) {
      const k = KINDS[kind];
      expect(out).toContain(`${k.singular}.${k.group}/${PREFIX}-category-${kind.toLowerCase()}`);
    }
  });

  it('answers to the short names and prints the columns', async () => {
    const out = await kubectl('get', 'nlb', '-n', NAMESPACE, `${PREFIX}-category-networkloadbalancer`);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+SCHEME\s+DNS-NAME\s+READY\s+AGE/);
    expect(out).toContain('internet-facing');
    for (const short of ['awsvol', 'enipool', 'alb', 'ng']) await kubectl('get', short, '-A');
    const ng = await kubectl('get', 'ng', `${PREFIX}-category-nodegroup`);
    expect(ng.split('\n')[0]).toMatch(/^NAME\s+ASG\s+MIN\s+MAX\s+DESIRED\s+READY\s+UPCOMING\s+AGE/);
  });

  it('explains fields with their descriptions', async () => {
    const out = await kubectl('explain', 'networkloadbalancers.spec.listeners.protocol');
    expect(out).toContain('TLS terminates at the load balancer');
    const vol = await kubectl('explain', 'awsvolumes.spec.sizeGiB');
    expect(vol).toContain('May grow');
  });

  it('selects by the selectable fields', async () => {
    const out = await kubectl('get', 'ng', '--field-selector', `spec.asgName=${PREFIX}-no-such-asg`, '-o', 'name');
    expect(out.trim()).toBe(`nodegroup.autoscaling.kube-iaas.dev/${PREFIX}-category-nodegroup`);
  });

  it('keeps status behind the status subresource and validates conditions there', async () => {
    const k = KINDS.NodeGroup;
    const name = `${PREFIX}-category-nodegroup`;
    const cur = (await objects.getClusterCustomObject({ group: k.group, version: k.version, plural: k.plural, name })) as {
      metadata: { resourceVersion: string; generation: number };
    };
    const condition = { type: 'Ready', status: 'Maybe', reason: 'Testing', message: '', lastTransitionTime: new Date().toISOString() };
    const bad = { ...body('NodeGroup', name, GOOD.NodeGroup), metadata: { name, resourceVersion: cur.metadata.resourceVersion }, status: { conditions: [condition] } };
    const err = await objects
      .replaceClusterCustomObjectStatus({ group: k.group, version: k.version, plural: k.plural, name, body: bad })
      .then(() => '', (e: unknown) => (e instanceof ApiException ? statusMessage(e.body) : String(e)));
    expect(err).toMatch(/status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
    const good = { ...bad, status: { observedGeneration: cur.metadata.generation, desired: 3, conditions: [{ ...condition, status: 'True' }] } };
    const res = (await objects.replaceClusterCustomObjectStatus({ group: k.group, version: k.version, plural: k.plural, name, body: good })) as {
      status: { desired: number };
    };
    expect(res.status.desired).toBe(3);
  });
});

describe.each(FIXTURES.map((f) => [f.kind, f] as const))('the API server on %s', (kind, fixture) => {
  it.each(fixture.good.map((g, i) => [g.name, g.spec, i] as const))('accepts %s', async (_n, spec, i) => {
    const r = await create(kind, `${PREFIX}-good-${i}`, spec);
    expect(r.ok ? '' : r.message).toBe('');
  });

  it.each(fixture.bad.map((b, i) => [b.name, b, i] as const))('rejects %s, naming the field', async (_n, bad, i) => {
    const r = await create(kind, `${PREFIX}-bad-${i}`, bad.spec);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe(422);
    // e.g. `spec.listeners[0].port: Invalid value: 70000: spec.listeners[0].port in body should be less than or equal to 65535`
    expect(r.message).toContain(`${bad.path}: `);
    const forField = fieldMessages(r.message).filter((part) => part.startsWith(`${bad.path}: `));
    expect(forField.length, r.message).toBeGreaterThan(0);
    expect(forField.join(' | ')).toMatch(CATEGORY_TEXT[bad.category]);
    if (bad.message) expect(forField.join(' | ')).toContain(bad.message);
  });
});

describe('transition rules (updates only, enforced by the API server)', () => {
  const name = `${PREFIX}-transition`;
  const k = KINDS.AwsVolume;
  const params = { group: k.group, version: k.version, plural: k.plural, name };

  beforeAll(async () => {
    await remove('AwsVolume', name);
    const r = await create('AwsVolume', name, { ...awsVolumeGood, volumeId: 'vol-0123456789abcdef0', sizeGiB: 30 }, false);
    expect(r.ok ? '' : r.message).toBe('');
  });
  afterAll(() => remove('AwsVolume', name));

  async function update(patch: (spec: Record<string, unknown>) => void): Promise<string> {
    const cur = (await objects.getClusterCustomObject(params)) as { spec: Record<string, unknown> };
    patch(cur.spec);
    return objects.replaceClusterCustomObject({ ...params, body: cur, dryRun: 'All' }).then(
      () => '',
      (e: unknown) => (e instanceof ApiException ? statusMessage(e.body) : String(e)),
    );
  }

  it('refuses to shrink a volume and allows growing it', async () => {
    expect(await update((s) => (s.sizeGiB = 20))).toContain('spec.sizeGiB: Invalid value: 20: spec.sizeGiB may grow but never shrink');
    expect(await update((s) => (s.sizeGiB = 40))).toBe('');
  });

  it('refuses to move, re-point or un-import a volume', async () => {
    expect(await update((s) => (s.availabilityZone = 'cn-northwest-1b'))).toContain('spec.availabilityZone is immutable');
    expect(await update((s) => (s.volumeId = 'vol-0123456789abcdef1'))).toContain('spec.volumeId is immutable');
    expect(await update((s) => delete s.volumeId)).toContain('spec.volumeId cannot be removed once set');
  });
});
