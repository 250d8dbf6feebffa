// Stage 1: keeps each Ingress group's ApplicationLoadBalancer equal to its translation. The key is the
// CR's `namespace/name` (the group name, or the Ingress's name for a group of one). Every member owns
// the CR and carries our finalizer. A broken member gets a Warning Event naming the annotation or field
// and is left out (the CR keeps its previous rules for it); the others are applied. A member that
// leaves (deleted, no longer ours) lets go of its finalizer once stage 2 has applied a spec without
// it; when the last member leaves, the CR is deleted and the members wait for its AWS resources to go.
import type { V1ConfigMap, V1Ingress, V1IngressClass, V1Service } from '@kubernetes/client-node';
import { validateApplicationLoadBalancerSpec, type AlbIngressStatus, type ApplicationLoadBalancer } from '@kube-iaas/crds';
import {
  addFinalizer,
  createMergePatch,
  deepEqual,
  getCondition,
  hasFinalizer,
  isBeingDeleted,
  isKubeAlreadyExists,
  removeFinalizer,
  resources,
  setCondition,
  splitKey,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type ReconcileContext,
  type ReconcileResult,
  type StatusWriter,
} from '@kube-iaas/core/runtime';
import { gauge } from '@kube-iaas/core/metrics';
import { ANNOTATIONS, FINALIZER } from '../constants.ts';
import { checkDefaults, classOf, parametersRef, withClassDefaults } from '../translate/class-defaults.ts';
import { formatTranslateErrors, groupIngresses, groupKeyOf, selectIngress, translateGroup, type GroupTranslation, type IngressLike } from '../translate/index.ts';
import { ACCEPTED, ALB_RESOURCE, translatedFromIngresses } from './common.ts';

/** Annotations a class's defaults may set: not group membership, not per-Ingress actions. */
const DEFAULT_KEYS: ReadonlySet<string> = new Set(Object.values(ANNOTATIONS).filter((a) => a !== ANNOTATIONS.groupName && a !== ANNOTATIONS.groupOrder && a !== ANNOTATIONS.actionPrefix));

export interface IngressControllerDeps {
  client: KubeClient;
  ingresses: Informer<V1Ingress>;
  classes: Informer<V1IngressClass>;
  services: Informer<V1Service>;
  albs: Informer<ApplicationLoadBalancer>;
  events: EventRecorder;
  statusWriter: StatusWriter;
}

const ING = { type: resources.Ingress };

const members = gauge({
  name: 'kube_iaas_ingress_group_members',
  help: 'Member Ingresses of each group (ApplicationLoadBalancer) by state: applied (its rules are the ones on the ALB) or left_out (broken; its previous rules, if any, stay)',
  labelNames: ['namespace', 'group', 'state'] as const,
});

/** Normalises a stored spec through the schema's defaults, so stored and translated specs compare. */
function normalised(spec: unknown): unknown {
  const v = validateApplicationLoadBalancerSpec(spec);
  return v.ok ? v.value : spec;
}

/** The Ingress backends' Service names (what a Service change can affect). */
export function servicesOf(ing: IngressLike): Set<string> {
  const out = new Set<string>();
  const add = (b: { service?: { name: string } } | undefined) => b?.service?.name && out.add(b.service.name);
  add(ing.spec?.defaultBackend);
  for (const r of ing.spec?.rules ?? []) for (const p of r.http?.paths ?? []) add(p.backend);
  return out;
}

/** Status of the members on the CR, and the Accepted condition's verdict. */
export function memberStatus(t: GroupTranslation): { ingresses: AlbIngressStatus[]; ok: boolean; message: string } {
  const ingresses = t.members.map((m): AlbIngressStatus => (m.applied ? { name: m.name, applied: true } : { name: m.name, applied: false, reason: 'InvalidIngress', message: formatTranslateErrors(m.errors) }));
  const broken = t.members.filter((m) => !m.applied);
  const parts = [...broken.map((m) => `Ingress ${m.name}: ${formatTranslateErrors(m.errors)}`), ...(t.errors.length ? [formatTranslateErrors(t.errors)] : [])];
  return { ingresses, ok: parts.length === 0, message: parts.length === 0 ? `${t.members.length} Ingress(es) translated` : parts.join('; ') };
}

export function ingressReconciler(deps: IngressControllerDeps) {
  async function setHostname(ing: V1Ingress, hostname: string | undefined): Promise<void> {
    const current = ing.status?.loadBalancer?.ingress?.[0]?.hostname;
    if (current === hostname || (!hostname && !ing.status?.loadBalancer?.ingress?.length)) return;
    const ingress = hostname ? [{ hostname }] : null;
    await deps.client.patch(resources.Ingress, { name: ing.metadata?.name ?? '', namespace: ing.metadata?.namespace }, { status: { loadBalancer: { ingress } } }, { subresource: 'status' });
  }

  /** A member that left: clear what we wrote on it and let it go. */
  async function release(ing: V1Ingress): Promise<void> {
    if (!isBeingDeleted(ing)) await setHostname(ing, undefined);
    await removeFinalizer(deps.client, resources.Ingress, ing, FINALIZER);
  }

  async function setAccepted(cr: ApplicationLoadBalancer, ok: boolean, message: string, ingresses: AlbIngressStatus[] | undefined): Promise<void> {
    const prev = getCondition(cr.status?.conditions, ACCEPTED);
    const reason = ok ? 'Translated' : 'InvalidIngress';
    const same = prev && prev.status === (ok ? 'True' : 'False') && prev.reason === reason && prev.message === message && prev.observedGeneration === cr.metadata.generation;
    if (same && (ingresses === undefined || deepEqual(cr.status?.ingresses ?? [], ingresses))) return;
    const conditions = setCondition(cr.status?.conditions, { type: ACCEPTED, status: ok, reason, message, observedGeneration: cr.metadata.generation ?? 0 });
    await deps.statusWriter.merge(ALB_RESOURCE, cr, { conditions, ...(ingresses ? { ingresses } : {}) }, { optimistic: true });
  }

  /**
   * The class defaults of each member (by name), read from the ConfigMap its IngressClass's
   * spec.parameters names; `problems` maps a member to why its class's defaults cannot be used.
   */
  async function classDefaults(members: readonly IngressLike[], classes: readonly V1IngressClass[]): Promise<{ byMember: Map<string, Record<string, string>>; problems: Map<IngressLike, string> }> {
    const byMember = new Map<string, Record<string, string>>();
    const problems = new Map<IngressLike, string>();
    const read = new Map<string, { data?: Record<string, string>; error?: string }>();
    for (const m of members) {
      const cls = classOf(m, classes);
      if (!cls) continue;
      const clsName = cls.metadata?.name ?? '';
      let got = read.get(clsName);
      if (!got) {
        const ref = parametersRef(cls);
        if (!ref) got = {};
        else if (!ref.ok) got = { error: ref.message };
        else {
          const cm = await deps.client.get<V1ConfigMap>(resources.ConfigMap, ref.name, ref.namespace);
          const where = `IngressClass ${clsName} spec.parameters: ConfigMap ${ref.namespace}/${ref.name}`;
          const bad = cm ? checkDefaults(cm.data ?? {}, DEFAULT_KEYS, where) : [`${where} not found`];
          got = bad.length > 0 ? { error: bad.join('; ') } : { data: cm?.data ?? {} };
        }
        read.set(clsName, got);
      }
      if (got.error) problems.set(m, got.error);
      else if (got.data) byMember.set(m.metadata?.name ?? '', got.data);
    }
    return { byMember, problems };
  }

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const { namespace: ns = 'default', name } = splitKey(key);
    const classes = deps.classes.list();
    const inNs = deps.ingresses.list(ns);
    const group = groupIngresses(inNs, classes).get(key);
    const inGroup = new Set(group?.members ?? []);
    // Ingresses holding our finalizer for this group that are no longer members of it.
    const leaving = inNs.filter((i) => hasFinalizer(i, FINALIZER) && !inGroup.has(i) && groupKeyOf(i) === key);
    const cr = deps.albs.get(key);

    if (cr && !translatedFromIngresses(cr)) {
      for (const m of inGroup) deps.events.warning(m, 'NameConflict', `ApplicationLoadBalancer ${key} exists and was not made from Ingresses; leaving it alone`, ING);
      for (const i of leaving) await release(i);
      return;
    }
    if (cr && group && (cr.spec.groupName ?? undefined) !== group.groupName && !isBeingDeleted(cr)) {
      const what = group.groupName ? `Ingress ${name}, which is not in a group` : `the group ${name}`;
      for (const m of inGroup) deps.events.warning(m, 'NameConflict', `ApplicationLoadBalancer ${key} already serves ${what}; rename the Ingress or the alb.ingress.kubernetes.io/group.name`, ING);
      return;
    }

    if (!group) {
      for (const state of ['applied', 'left_out']) members.remove({ namespace: ns, group: name, state });
      if (cr && !isBeingDeleted(cr)) {
        await deps.client.delete(ALB_RESOURCE, { name, namespace: ns });
        ctx.log.info('last member left: deleted the ApplicationLoadBalancer; waiting for its AWS resources to go');
        return; // the CR's deletion wakes this key again
      }
      if (cr) return;
      for (const i of leaving) await release(i);
      return;
    }

    // Class defaults that cannot be read stop the whole group where it is: which settings a member
    // would get is unknown, so nothing is changed on the ALB until the class or its ConfigMap is fixed.
    const defaults = await classDefaults(group.members, classes);
    if (defaults.problems.size > 0) {
      for (const [m, message] of defaults.problems) deps.events.warning(m, 'InvalidIngressClassParameters', `${message}; the ALB keeps what it serves`, ING);
      const message = [...new Set(defaults.problems.values())].join('; ');
      if (cr) await setAccepted(cr, false, message, cr.status?.ingresses);
      return { requeueAfter: 30_000 };
    }
    const services = deps.services.list(ns);
    const effective = { ...group, members: group.members.map((m) => withClassDefaults(m, defaults.byMember.get(m.metadata?.name ?? ''))) };
    const t = translateGroup({ group: effective, services, previous: cr });
    for (const m of t.members) {
      if (m.applied) continue;
      const ing = group.members.find((x) => x.metadata?.name === m.name);
      const kept = cr?.spec.rules?.some((r) => r.ingressName === m.name);
      if (ing) deps.events.warning(ing, 'InvalidIngress', `${formatTranslateErrors(m.errors)}; ${kept ? 'its previous rules stay on the ALB' : 'it is left out of the ALB'}, the rest of the group is applied`, ING);
    }
    if (t.errors.length > 0) for (const m of inGroup) deps.events.warning(m, 'InvalidIngressGroup', formatTranslateErrors(t.errors), ING);
    const verdict = memberStatus(t);
    const applied = t.members.filter((m) => m.applied).length;
    members.set({ namespace: ns, group: name, state: 'applied' }, applied);
    members.set({ namespace: ns, group: name, state: 'left_out' }, t.members.length - applied);
    if (!verdict.ok) ctx.log.warn({ problems: verdict.message }, 'part of the group cannot be translated');

    if (!t.resource) {
      if (cr) await setAccepted(cr, false, verdict.message, verdict.ingresses);
      for (const i of leaving) if (!cr) await release(i);
      return;
    }
    for (const m of group.members) if (!hasFinalizer(m, FINALIZER)) await addFinalizer(deps.client, resources.Ingress, m as V1Ingress, FINALIZER);

    const want = t.resource;
    if (!cr) {
      let created: ApplicationLoadBalancer;
      try {
        created = await deps.client.create<ApplicationLoadBalancer>(ALB_RESOURCE, want);
      } catch (e) {
        // Created by an earlier attempt the cache has not seen yet: look again shortly.
        if (isKubeAlreadyExists(e)) return { requeueAfter: 500 };
        throw e;
      }
      for (const m of inGroup) deps.events.normal(m, 'CreatedApplicationLoadBalancer', `created ApplicationLoadBalancer ${key} (${want.spec.scheme ?? 'internal'}, ${want.spec.rules?.length ?? 0} rule(s))`, ING);
      await setAccepted(created, verdict.ok, verdict.message, verdict.ingresses);
      for (const i of leaving) await release(i);
      return;
    }
    if (isBeingDeleted(cr)) return { requeueAfter: 2_000 }; // recreate once the old one is gone

    let current = cr;
    const patch: Record<string, unknown> = {};
    if (!deepEqual(normalised(cr.spec), want.spec)) patch.spec = createMergePatch(cr.spec, want.spec);
    const meta: Record<string, unknown> = {};
    const labels = want.metadata.labels ?? {};
    if (Object.entries(labels).some(([k, v]) => cr.metadata.labels?.[k] !== v)) meta.labels = labels;
    const owners = want.metadata.ownerReferences ?? [];
    if (!deepEqual((cr.metadata.ownerReferences ?? []).map((o) => o.uid).sort(), owners.map((o) => o.uid).sort())) meta.ownerReferences = owners;
    if (Object.keys(meta).length > 0) patch.metadata = meta;
    if (Object.keys(patch).length > 0) {
      current = await deps.client.patch<ApplicationLoadBalancer>(ALB_RESOURCE, { name, namespace: ns }, patch);
      if (patch.spec) for (const m of inGroup) deps.events.normal(m, 'UpdatedApplicationLoadBalancer', `updated ApplicationLoadBalancer ${key} from the group's Ingresses`, ING);
    }
    await setAccepted(current, verdict.ok, verdict.message, verdict.ingresses);

    // Members with rules on the ALB show its DNS name; a member left out from the start does not.
    const dns = current.status?.dnsName;
    const served = new Set((current.spec.rules ?? []).map((r) => r.ingressName));
    for (const m of group.members) {
      const on = t.members.find((x) => x.name === m.metadata?.name)?.applied || served.has(m.metadata?.name);
      if (dns && on) await setHostname(m as V1Ingress, dns);
    }
    // A leaving member goes once stage 2 has applied a spec without it.
    const caughtUp = (current.status?.observedGeneration ?? 0) >= (current.metadata.generation ?? 0);
    if (leaving.length > 0 && !caughtUp) return; // the CR's status update wakes this key again
    for (const i of leaving) await release(i);
    return;
  };
}

/** Keys (group keys) an Ingress event affects: its group now, and before. */
export function ingressKeys(ing: V1Ingress, old: V1Ingress | undefined, classes: readonly V1IngressClass[]): string[] {
  const keys = new Set<string>();
  for (const i of [ing, old]) {
    if (!i) continue;
    if (selectIngress(i, classes) || hasFinalizer(i, FINALIZER)) keys.add(groupKeyOf(i));
  }
  return [...keys];
}
