// The CRDs are structural, documented and consistent with the kind constants.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CATEGORY, KINDS, KIND_SOURCES, crdManifests } from '../../src/index.ts';
import type { CustomResourceDefinition } from '../../src/index.ts';
import { toAjvSchema } from '../../src/validate.ts';
import { walkSchema } from '../../src/schema.ts';
import { ALL_YAML, CRD_DIR } from '../../scripts/render.ts';

const ROOT = join(import.meta.dirname, '..', '..');
type Node = Record<string, unknown>;

/** Every schema node of a raw openAPIV3Schema, with its path. */
function nodes(schema: Node, path = ''): [string, Node][] {
  const out: [string, Node][] = [[path || '<root>', schema]];
  for (const [k, v] of Object.entries((schema.properties as Record<string, Node>) ?? {})) out.push(...nodes(v, path ? `${path}.${k}` : k));
  if (schema.items) out.push(...nodes(schema.items as Node, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') out.push(...nodes(schema.additionalProperties as Node, `${path}[*]`));
  return out;
}

function committedCrds(): CustomResourceDefinition[] {
  return KIND_SOURCES.map(
    (s) => parse(readFileSync(join(ROOT, CRD_DIR, `${s.plural}.${s.group}.yaml`), 'utf8')) as CustomResourceDefinition,
  );
}

describe.each(committedCrds().map((c) => [c.metadata.name, c] as const))('%s', (_name, crd) => {
  const version = crd.spec.versions[0];
  const schema = version?.schema.openAPIV3Schema as Node;

  it('is apiextensions.k8s.io/v1 with one served storage version, a status subresource and the category', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    expect(crd.spec.names.categories).toEqual([CATEGORY]);
    expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
    expect(crd.metadata.labels['app.kubernetes.io/part-of']).toBe('kube-iaas');
  });

  it('is structural: every node has a type (or is int-or-string), no metadata fields, no properties next to additionalProperties', () => {
    for (const [path, n] of nodes(schema)) {
      if (n['x-kubernetes-int-or-string']) {
        expect(n.type, path).toBeUndefined();
        expect(n.anyOf, path).toEqual([{ type: 'integer' }, { type: 'string' }]);
      } else {
        expect(['object', 'array', 'string', 'integer', 'number', 'boolean'], path).toContain(n.type);
      }
      if (n.type === 'array') expect(n.items, path).toBeDefined();
      expect(n.properties && n.additionalProperties, `${path} has properties and additionalProperties`).toBeFalsy();
      expect(n['x-kubernetes-preserve-unknown-fields'], path).toBeUndefined();
      expect(n.nullable, path).toBeUndefined();
      for (const k of ['$ref', 'allOf', 'oneOf', 'not', 'definitions', 'dependencies', 'additionalItems', 'patternProperties']) {
        expect(n[k], `${path}.${k}`).toBeUndefined();
      }
    }
    expect((schema.properties as Node).metadata).toEqual({ type: 'object' });
  });

  it('describes every field (kubectl explain)', () => {
    for (const [path, n] of nodes(schema)) {
      if (path === 'metadata') continue; // documented by the API server; it forbids a description here
      expect(typeof n.description === 'string' && (n.description as string).length > 3, `${path} has no description`).toBe(true);
    }
  });

  it('keeps list-map keys required or defaulted scalars, and set items scalar', () => {
    for (const [path, n] of nodes(schema)) {
      const items = n.items as Node | undefined;
      if (n['x-kubernetes-list-type'] === 'set') expect(['string', 'integer', 'number', 'boolean'], path).toContain(items?.type);
      if (n['x-kubernetes-list-type'] === 'map') {
        const keys = n['x-kubernetes-list-map-keys'] as string[];
        expect(keys?.length, path).toBeGreaterThan(0);
        for (const k of keys) {
          const key = (items?.properties as Record<string, Node>)[k];
          expect(['string', 'integer'], `${path} key ${k}`).toContain(key?.type);
          expect(((items?.required as string[]) ?? []).includes(k) || key?.default !== undefined, `${path} key ${k}`).toBe(true);
        }
      }
    }
  });

  it('has defaults that satisfy their own schema', () => {
    const ajv = new Ajv({ strict: false });
    ajv.addFormat('date-time', true);
    const src = KIND_SOURCES.find((s) => s.kind === crd.spec.names.kind);
    if (!src) throw new Error('no source');
    walkSchema(src.spec, 'spec', (node, path) => {
      if (node.default === undefined) return;
      expect(ajv.validate(toAjvSchema(node), structuredClone(node.default)), `${path}: ${ajv.errorsText()}`).toBe(true);
    });
  });

  it('gives every CEL rule a message naming a field, and a fieldPath or a node of its own', () => {
    for (const [path, n] of nodes(schema)) {
      for (const r of (n['x-kubernetes-validations'] as Node[] | undefined) ?? []) {
        expect(typeof r.rule, path).toBe('string');
        expect((r.message as string).length, `${path}: ${String(r.rule)}`).toBeGreaterThan(10);
        if (r.fieldPath) expect(r.fieldPath as string, path).toMatch(/^(\.[A-Za-z][A-Za-z0-9]*)+$/);
      }
    }
  });

  it('has printer columns and selectable fields that point at real schema fields', () => {
    const paths = new Set(nodes(schema).map(([p]) => `.${p.replaceAll('[]', '[0]')}`));
    for (const c of version?.additionalPrinterColumns ?? []) {
      if (c.jsonPath.startsWith('.metadata.')) continue;
      const normal = c.jsonPath.replace(/\[\?\(@\.type=="[A-Za-z]+"\)\]/, '[0]');
      expect(paths.has(normal), `${c.name} → ${c.jsonPath}`).toBe(true);
    }
    for (const f of version?.selectableFields ?? []) expect(paths.has(f.jsonPath), f.jsonPath).toBe(true);
  });

  it('matches its kind constant', () => {
    const k = KINDS[crd.spec.names.kind as keyof typeof KINDS];
    expect(k).toBeDefined();
    expect(crd.metadata.name).toBe(k.crdName);
    expect(crd.spec.group).toBe(k.group);
    expect(crd.spec.scope).toBe(k.scope);
    expect(crd.spec.names).toMatchObject({ plural: k.plural, singular: k.singular, listKind: k.listKind, shortNames: [...k.shortNames] });
    expect(`${crd.spec.group}/${version?.name}`).toBe(k.apiVersion);
    expect(k.finalizer).toBe(`${k.group}/finalizer`);
  });
});

describe('the set of CRDs', () => {
  it('follows the design: groups, scopes, short names', () => {
    const byKind = Object.fromEntries(crdManifests().map((c) => [c.spec.names.kind, c.spec]));
    expect(byKind.AwsVolume).toMatchObject({ group: 'storage.kube-iaas.dev', scope: 'Cluster', names: { shortNames: ['awsvol'] } });
    expect(byKind.EniPool).toMatchObject({ group: 'network.kube-iaas.dev', scope: 'Cluster', names: { shortNames: ['enipool'] } });
    expect(byKind.NetworkLoadBalancer).toMatchObject({ group: 'elb.kube-iaas.dev', scope: 'Namespaced', names: { shortNames: ['nlb'] } });
    expect(byKind.ApplicationLoadBalancer).toMatchObject({ group: 'elb.kube-iaas.dev', scope: 'Namespaced', names: { shortNames: ['alb'] } });
    expect(byKind.NodeGroup).toMatchObject({ group: 'autoscaling.kube-iaas.dev', scope: 'Cluster', names: { shortNames: ['ng'] } });
  });

  it('never uses one name (plural, singular, short name) for two kinds', () => {
    const names = crdManifests().flatMap((c) => [...new Set([c.spec.names.plural, c.spec.names.singular, ...c.spec.names.shortNames])]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('crdManifests() equals the committed YAML and all.yaml bundles the same documents', () => {
    const committed = committedCrds();
    expect(crdManifests()).toEqual(committed);
    const bundle = parseAllDocuments(readFileSync(join(ROOT, ALL_YAML), 'utf8')).map((d) => d.toJS());
    expect(bundle).toEqual(committed);
  });

  it('crdManifests() returns fresh objects each call', () => {
    const a = crdManifests();
    a[0]!.spec.names.categories.push('mutated');
    expect(crdManifests()[0]!.spec.names.categories).toEqual([CATEGORY]);
  });
});
