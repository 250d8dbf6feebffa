// Installs the CRDs from code (operators at start-up, `npm start`, tests) and waits until they serve.
import { ApiextensionsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { crdManifests } from './crd.ts';
import type { CustomResourceDefinition } from './crd.ts';

export interface InstallCrdsOptions {
  /** Only these kinds (e.g. ['NetworkLoadBalancer']); all five when unset. */
  kinds?: readonly string[];
  /** Field manager for server-side apply. Default `kube-iaas-crds`. */
  fieldManager?: string;
  /** How long to wait for every CRD to be Established. Default 60 s. */
  timeoutMs?: number;
  /** Poll interval while waiting. Default 250 ms. */
  pollMs?: number;
}

export interface InstalledCrd {
  name: string;
  kind: string;
  /** metadata.generation after the apply. */
  generation: number | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function condition(crd: V1CustomResourceDefinition, type: string) {
  return crd.status?.conditions?.find((c) => c.type === type);
}

/**
 * Server-side applies the CRDs (creating or updating them, taking ownership of their fields with force),
 * then waits until each is Established. Throws if a CRD's names are refused or the wait times out.
 */
export async function installCrds(kc: KubeConfig, options: InstallCrdsOptions = {}): Promise<InstalledCrd[]> {
  const { fieldManager = 'kube-iaas-crds', timeoutMs = 60_000, pollMs = 250 } = options;
  const api = kc.makeApiClient(ApiextensionsV1Api);
  let manifests: CustomResourceDefinition[] = crdManifests();
  if (options.kinds) {
    const unknown = options.kinds.filter((k) => !manifests.some((m) => m.spec.names.kind === k));
    if (unknown.length) throw new Error(`installCrds: unknown kind(s) ${unknown.join(', ')}`);
    manifests = manifests.filter((m) => options.kinds?.includes(m.spec.names.kind));
  }
  const applyHeader = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  const installed: InstalledCrd[] = [];
  for (const m of manifests) {
    // The body goes out verbatim (the generated client serialises `body` as "any"), so x-kubernetes-*
    // keys survive; a client-node model would rename them.
    const res = await api.patchCustomResourceDefinition(
      { name: m.metadata.name, body: m, fieldManager, force: true },
      applyHeader,
    );
    installed.push({ name: m.metadata.name, kind: m.spec.names.kind, generation: res.metadata?.generation });
  }
  const deadline = Date.now() + timeoutMs;
  for (const m of manifests) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name: m.metadata.name });
      const names = condition(crd, 'NamesAccepted');
      if (names?.status === 'False') {
        throw new Error(`CRD ${m.metadata.name}: names not accepted: ${names.reason ?? ''} ${names.message ?? ''}`.trim());
      }
      if (condition(crd, 'Established')?.status === 'True') break;
      if (Date.now() > deadline) {
        throw new Error(`CRD ${m.metadata.name} not Established after ${timeoutMs} ms`);
      }
      await sleep(pollMs);
    }
  }
  return installed;
}
