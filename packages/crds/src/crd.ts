// Builds apiextensions.k8s.io/v1 CustomResourceDefinitions from the kind sources. The generator writes
// these objects as YAML; `crdManifests()` returns the very same objects for installing from code.
import { toOpenApi } from './schema.ts';
import type { Json } from './schema.ts';
import type { KindSource, PrinterColumn } from './sources/common.ts';
import { KIND_SOURCES } from './sources/index.ts';

/** A CustomResourceDefinition as sent to the API server (JSON wire format, not a client-node model). */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Cluster' | 'Namespaced';
    versions: CrdVersion[];
  };
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: { [key: string]: Json } };
  subresources: { status: Record<string, never> };
  additionalPrinterColumns: PrinterColumn[];
  selectableFields?: { jsonPath: string }[];
}

export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

export function crdName(src: Pick<KindSource, 'plural' | 'group'>): string {
  return `${src.plural}.${src.group}`;
}

export function buildCrd(src: KindSource): CustomResourceDefinition {
  const openAPIV3Schema: { [key: string]: Json } = {
    description: src.description,
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: {
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
        type: 'string',
      },
      kind: {
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
        type: 'string',
      },
      // The API server documents metadata itself and forbids anything but type here.
      metadata: { type: 'object' },
      spec: toOpenApi(src.spec),
      status: toOpenApi(src.status),
    },
  };
  const version: CrdVersion = {
    name: src.version,
    served: true,
    storage: true,
    schema: { openAPIV3Schema },
    subresources: { status: {} },
    additionalPrinterColumns: src.printerColumns.map((c) => ({ ...c })),
  };
  if (src.selectableFields?.length) version.selectableFields = src.selectableFields.map((jsonPath) => ({ jsonPath }));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: crdName(src),
      labels: { [PART_OF_LABEL]: 'kube-iaas', [COMPONENT_LABEL]: src.component },
    },
    spec: {
      group: src.group,
      names: {
        kind: src.kind,
        listKind: src.listKind,
        plural: src.plural,
        singular: src.singular,
        shortNames: [...src.shortNames],
        categories: [...src.categories],
      },
      scope: src.scope,
      versions: [version],
    },
  };
}

/** Every kube-iaas CRD, freshly built (callers may mutate the result). */
export function crdManifests(): CustomResourceDefinition[] {
  return KIND_SOURCES.map(buildCrd);
}
