// Stage 1: keeps each selected Service's NetworkLoadBalancer equal to its translation, and the Service's
// status.loadBalancer equal to that NetworkLoadBalancer's DNS name. Only this controller writes a
// Service's status, and only from the NetworkLoadBalancer the Service owns, so no other resource naming
// the Service can change what its clients resolve. Bad annotations give a Warning Event on the Service
// per annotation and an `Accepted=False` condition listing them all on an existing CR, and leave the CR
// (and so the working NLB) as it is. A Service that is deleted or no longer selected gets its CR deleted,
// waits (finalizer) until stage 2 has removed the AWS resources, then lets go.
import type { V1Service } from '@kubernetes/client-node';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { validateNetworkLoadBalancerSpec } from '@kube-iaas/crds';
import {
  addFinalizer,
  controllerOf,
  createMergePatch,
  deepEqual,
  getCondition,
  hasFinalizer,
  isBeingDeleted,
  isKubeAlreadyExists,
  isKubeConflict,
  removeFinalizer,
  resources,
  setCondition,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type ReconcileContext,
  type ReconcileResult,
  type StatusWriter,
} from '@kube-iaas/core/runtime';
import { FINALIZER, NLB_RESOURCE } from '../constants.ts';
import { formatTranslateErrors, selectService, serviceHostname, translateService } from '../translate/index.ts';

/** Condition stage 1 writes on the CR: whether the Service's current annotations were taken. */
export const ACCEPTED = 'Accepted';

export interface ServiceControllerDeps {
  client: KubeClient;
  services: Informer<V1Service>;
  nlbs: Informer<NetworkLoadBalancer>;
  events: EventRecorder;
  statusWriter: StatusWriter;
}

/** Normalises a stored spec through the schema's defaults, so stored and translated specs compare. */
function normalised(spec: unknown): unknown {
  const v = validateNetworkLoadBalancerSpec(spec);
  return v.ok ? v.value : spec;
}

async function setAccepted(deps: ServiceControllerDeps, cr: NetworkLoadBalancer, ok: boolean, reason: string, message: string): Promise<void> {
  const prev = getCondition(cr.status?.conditions, ACCEPTED);
  if (prev && prev.status === (ok ? 'True' : 'False') && prev.reason === reason && prev.message === message) return;
  const write = (base: NetworkLoadBalancer) =>
    deps.statusWriter.merge(
      NLB_RESOURCE,
      base,
      { conditions: setCondition(base.status?.conditions, { type: ACCEPTED, status: ok, reason, message, observedGeneration: base.metadata.generation ?? 0 }) },
      { optimistic: true }, // stage 2 writes the same conditions list (see controllers/nlb.ts)
    );
  try {
    await write(cr);
  } catch (e) {
    if (!isKubeConflict(e)) throw e;
    const fresh = await deps.client.get<NetworkLoadBalancer>(NLB_RESOURCE, cr.metadata.name ?? '', cr.metadata.namespace);
    if (fresh) await write(fresh);
  }
}

/** Writes the hostname of the NetworkLoadBalancer the Service owns into the Service's status, when it differs. */
async function syncHostname(deps: ServiceControllerDeps, svc: V1Service, cr: NetworkLoadBalancer | undefined): Promise<void> {
  const want = serviceHostname(svc, cr);
  if (want === undefined) return;
  const ingress = svc.status?.loadBalancer?.ingress;
  if (want === null ? !ingress?.length : ingress?.length === 1 && ingress[0]?.hostname === want && !ingress[0].ip) return;
  await deps.client.patch(
    resources.Service,
    { name: svc.metadata?.name ?? '', namespace: svc.metadata?.namespace },
    { status: { loadBalancer: { ingress: want === null ? null : [{ hostname: want }] } } },
    { subresource: 'status' },
  );
}

export function serviceReconciler(deps: ServiceControllerDeps) {
  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const svc = deps.services.get(key);
    if (!svc?.metadata?.name) return;
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    const cr = deps.nlbs.get(key);
    const ours = !!cr && controllerOf(cr)?.uid === svc.metadata.uid;

    if (isBeingDeleted(svc) || !selectService(svc)) {
      if (!hasFinalizer(svc, FINALIZER)) return;
      if (cr && ours) {
        if (!isBeingDeleted(cr)) {
          await deps.client.delete(NLB_RESOURCE, { name, namespace: ns });
          ctx.log.info('deleted the NetworkLoadBalancer; waiting for its AWS resources to go');
        }
        return; // the CR's deletion wakes this key again
      }
      if (!isBeingDeleted(svc) && svc.status?.loadBalancer?.ingress?.length) {
        await deps.client.patch(resources.Service, { name, namespace: ns }, { status: { loadBalancer: { ingress: null } } }, { subresource: 'status' });
      }
      await removeFinalizer(deps.client, resources.Service, svc, FINALIZER);
      return;
    }

    // The status follows the NLB the Service owns whatever its annotations say now.
    if (cr && ours) await syncHostname(deps, svc, cr);
    const result = translateService(svc);
    if (!result.ok) {
      const message = formatTranslateErrors(result.errors);
      // One Event per bad field, so a long message cannot push another field out of the Event's 1 KiB.
      for (const e of result.errors) deps.events.warning(svc, 'InvalidLoadBalancerSpec', `${formatTranslateErrors([e])}; the load balancer is left as it is`, { type: resources.Service });
      if (cr && ours) await setAccepted(deps, cr, false, 'InvalidServiceSpec', message);
      ctx.log.warn({ errors: result.errors }, 'Service cannot be translated');
      return;
    }
    if (cr && !ours) {
      deps.events.warning(svc, 'NameConflict', `NetworkLoadBalancer ${key} exists and is not controlled by this Service; leaving it alone`, { type: resources.Service });
      return;
    }
    const withFinalizer = await addFinalizer(deps.client, resources.Service, svc, FINALIZER);
    void withFinalizer;
    const want = result.resource;
    if (!cr) {
      try {
        await deps.client.create(NLB_RESOURCE, want);
      } catch (e) {
        // Created by an earlier attempt the cache has not seen yet: look again shortly.
        if (isKubeAlreadyExists(e)) return { requeueAfter: 500 };
        throw e;
      }
      deps.events.normal(svc, 'CreatedNetworkLoadBalancer', `created NetworkLoadBalancer ${key} (${want.spec.scheme}, ${want.spec.listeners.length} listener(s))`, { type: resources.Service });
      return;
    }
    if (isBeingDeleted(cr)) return { requeueAfter: 2_000 }; // recreate once the old one is gone
    const patch: Record<string, unknown> = {};
    if (!deepEqual(normalised(cr.spec), want.spec)) patch.spec = createMergePatch(cr.spec, want.spec);
    const labels = want.metadata.labels ?? {};
    if (Object.entries(labels).some(([k, v]) => cr.metadata.labels?.[k] !== v)) patch.metadata = { labels };
    if (Object.keys(patch).length > 0) {
      await deps.client.patch(NLB_RESOURCE, { name, namespace: ns }, patch);
      deps.events.normal(svc, 'UpdatedNetworkLoadBalancer', `updated NetworkLoadBalancer ${key} from the Service`, { type: resources.Service });
    }
    if (getCondition(cr.status?.conditions, ACCEPTED)?.status !== 'True') await setAccepted(deps, cr, true, 'Translated', 'the Service annotations are valid');
    return;
  };
}
