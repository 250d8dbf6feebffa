// Stage 1, pure, per group: the Ingresses of one IngressGroup (or one Ingress without group.name) become
// one ApplicationLoadBalancer, owned by every member. A broken member is isolated: its new rules are left
// out (what it had before stays), the others are applied, and it gets its own error list for the Warning
// Event. Rule priorities are kept from the previous spec so adding a path never renumbers other rules
// (priorities.ts); validator errors are traced back to the member and annotation (paths.ts).
import { APPLICATION_LOAD_BALANCER, validateApplicationLoadBalancerSpec } from '@kube-iaas/crds';
import type { AlbAction, AlbListener, AlbRule, AlbTargetGroup, ApplicationLoadBalancer, ApplicationLoadBalancerSpec } from '@kube-iaas/crds';
import { assertOwnerAllowed, deepEqual as deepEqualSafe, ownerReference, resources } from '@kube-iaas/core/runtime';
import { ANNOTATIONS, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../constants.ts';
import { SETTING_ANNOTATION, groupNameOf, groupOrderOf, parseMember, type GroupSettings, type MemberFragment } from './member.ts';
import { selectIngress } from './select.ts';
import { dropPath, fieldOfPath, memberOfPath, type Attribution } from './paths.ts';
import { assignPriorities, conditionKey, dropShadowed, type PendingRule } from './priorities.ts';
import type { IngressClassLike, IngressLike, ServiceLike, TranslateError } from './types.ts';

/** Spacing of new priorities, so a path added between two others gets a slot between them. */

export interface IngressGroup {
  namespace: string;
  /** group.name; undefined for an Ingress that is a group of one. */
  groupName?: string;
  /** Name of the ApplicationLoadBalancer: the group name, or the Ingress's name. */
  name: string;
  /** Members in merge order (group.order, then name). */
  members: IngressLike[];
}

/** `namespace/name` of the ApplicationLoadBalancer an Ingress belongs to. */
export function groupKeyOf(ing: IngressLike): string {
  const ns = ing.metadata?.namespace ?? 'default';
  const g = groupNameOf(ing);
  return `${ns}/${g.ok && g.value ? g.value : (ing.metadata?.name ?? '')}`;
}

function byOrder(a: IngressLike, b: IngressLike): number {
  const oa = groupOrderOf(a);
  const ob = groupOrderOf(b);
  const d = (oa.ok ? oa.value : 0) - (ob.ok ? ob.value : 0);
  if (d !== 0) return d;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/**
 * The groups of the selected Ingresses, keyed `namespace/name`. Ingresses being deleted have left their
 * group. Groups do not span namespaces (an owner reference must stay in its namespace).
 */
export function groupIngresses(ingresses: readonly IngressLike[], classes: readonly IngressClassLike[]): Map<string, IngressGroup> {
  const out = new Map<string, IngressGroup>();
  for (const ing of ingresses) {
    if (ing.metadata?.deletionTimestamp) continue;
    if (!selectIngress(ing, classes)) continue;
    const key = groupKeyOf(ing);
    const g = groupNameOf(ing);
    const groupName = g.ok ? g.value : undefined;
    let group = out.get(key);
    if (!group) {
      const namespace = ing.metadata?.namespace ?? 'default';
      group = { namespace, name: key.slice(namespace.length + 1), members: [] };
      if (groupName) group.groupName = groupName;
      out.set(key, group);
    }
    group.members.push(ing);
  }
  for (const g of out.values()) g.members.sort(byOrder);
  return out;
}

export interface MemberResult {
  name: string;
  /** Whether this version of the Ingress is on the ALB. */
  applied: boolean;
  /** What is wrong with it (for the Warning Event on that Ingress). */
  errors: TranslateError[];
}

export interface GroupTranslation {
  /** Undefined when nothing can be applied (every member broken, or a group-wide error). */
  resource?: ApplicationLoadBalancer;
  members: MemberResult[];
  /** Errors of the group as a whole (not attributable to one member). */
  errors: TranslateError[];
}

export interface TranslateGroupInput {
  group: IngressGroup;
  /** Services of the group's namespace. */
  services: readonly ServiceLike[];
  /** The ApplicationLoadBalancer as it is now, if any: its rules' priorities are kept. */
  previous?: ApplicationLoadBalancer | undefined;
}

const NOT_FOUND: AlbAction = { type: 'fixed-response', fixedResponse: { statusCode: 404, contentType: 'text/plain', messageBody: 'Not Found' } };

interface Built {
  spec: ApplicationLoadBalancerSpec;
  attribution: Attribution;
  /** Merge conflicts, per member. */
  conflicts: Map<string, TranslateError[]>;
}

function build(group: IngressGroup, fragments: MemberFragment[], broken: ReadonlySet<string>, previous: ApplicationLoadBalancerSpec | undefined, allMembers: Array<{ name: string; order: number }>): Built {
  const conflicts = new Map<string, TranslateError[]>();
  const conflict = (member: string, field: string, message: string) => {
    const list = conflicts.get(member) ?? [];
    list.push({ field, message });
    conflicts.set(member, list);
  };
  const attribution: Attribution = { rules: [], targetGroups: [], listeners: [], settings: new Map() };

  // Group-wide settings: the first member (in merge order) that sets one decides; a later member that
  // disagrees is in conflict.
  const settings: GroupSettings = {};
  const accepted: MemberFragment[] = [];
  for (const f of fragments) {
    let bad = false;
    for (const key of Object.keys(f.settings) as Array<keyof GroupSettings>) {
      const mine = f.settings[key];
      const theirs = settings[key];
      if (theirs !== undefined && !deepEqualSafe(mine, theirs)) {
        conflict(f.name, SETTING_ANNOTATION[key], `${JSON.stringify(mine)} conflicts with ${JSON.stringify(theirs)} from Ingress ${attribution.settings.get(key)} of the same group`);
        bad = true;
      }
    }
    if (bad) continue;
    for (const key of Object.keys(f.settings) as Array<keyof GroupSettings>) {
      if (settings[key] === undefined) {
        (settings as Record<string, unknown>)[key] = f.settings[key];
        attribution.settings.set(key, f.name);
      }
    }
    accepted.push(f);
  }

  // Listeners: the union of the members' listen ports; a port must have one protocol.
  const listeners = new Map<number, AlbListener>();
  const listenerOwner = new Map<number, string>();
  const certs: string[] = [];
  let defaultAction: AlbAction | undefined;
  let defaultOwner: string | undefined;
  const members: MemberFragment[] = [];
  for (const f of accepted) {
    const clash = f.listenPorts.find((l) => listeners.has(l.port) && listeners.get(l.port)?.protocol !== l.protocol);
    if (clash) {
      conflict(f.name, ANNOTATIONS.listenPorts, `port ${clash.port} is ${listeners.get(clash.port)?.protocol} in Ingress ${listenerOwner.get(clash.port)} of the same group, not ${clash.protocol}`);
      continue;
    }
    if (f.defaultAction && defaultAction && !deepEqualSafe(f.defaultAction, defaultAction)) {
      conflict(f.name, 'spec.defaultBackend', `conflicts with the default backend of Ingress ${defaultOwner} of the same group`);
      continue;
    }
    for (const l of f.listenPorts) {
      if (listeners.has(l.port)) continue;
      listeners.set(l.port, { port: l.port, protocol: l.protocol });
      listenerOwner.set(l.port, f.name);
    }
    for (const c of f.certificateArns) if (!certs.includes(c)) certs.push(c);
    if (f.defaultAction && !defaultAction) {
      defaultAction = f.defaultAction;
      defaultOwner = f.name;
    }
    members.push(f);
  }

  // Rules, in merge order, on each of the member's listen ports (not on HTTP ports that redirect to HTTPS).
  const pending: PendingRule[] = [];
  const byCondition = new Map<string, { member: string; order: number }>();
  const orderOf = new Map(allMembers.map((m) => [m.name, m.order]));
  const rejected = new Set<string>();
  for (const f of members) {
    const mine: PendingRule[] = [];
    for (const l of f.listenPorts) {
      if (settings.sslRedirectPort !== undefined && l.protocol === 'HTTP') continue;
      for (const r of f.rules) {
        const rule: Omit<AlbRule, 'priority'> = { listenerPort: l.port, ingressName: f.name, action: r.action };
        if (r.hosts) rule.hosts = r.hosts;
        if (r.paths) rule.paths = r.paths;
        const other = byCondition.get(conditionKey(rule));
        if (other && other.member !== f.name && other.order === f.order && !deepEqualSafe(rule.action, pending.find((p) => p.member === other.member && conditionKey(p.rule) === conditionKey(rule))?.rule.action)) {
          conflict(f.name, r.field, `the same host and path as a rule of Ingress ${other.member}, which has the same ${ANNOTATIONS.groupOrder} (${f.order}) and a different backend; give one of them another group.order`);
          rejected.add(f.name);
        }
        mine.push({ rule, member: f.name, field: r.field });
      }
    }
    if (rejected.has(f.name)) continue;
    for (const p of mine) if (!byCondition.has(conditionKey(p.rule))) byCondition.set(conditionKey(p.rule), { member: f.name, order: f.order });
    pending.push(...mine);
  }
  const applied = members.filter((f) => !rejected.has(f.name));

  // Broken members keep what they had: their previous rules, target groups and listeners stay as they were.
  const keepFrom = new Set([...broken, ...conflicts.keys()]);
  const kept = (previous?.rules ?? []).filter((r) => r.ingressName !== undefined && keepFrom.has(r.ingressName) && orderOf.has(r.ingressName));
  const { carried, live } = dropShadowed(kept, pending, allMembers);
  const reserved = new Map<number, Set<number>>();
  for (const r of carried) {
    const set = reserved.get(r.listenerPort) ?? new Set<number>();
    set.add(r.priority);
    reserved.set(r.listenerPort, set);
  }
  assignPriorities(live, previous?.rules ?? [], reserved);

  // Target groups and rules with the member each came from (attribution follows the sorted order below).
  const tgs = new Map<string, { tg: AlbTargetGroup; member: string }>();
  for (const f of applied) {
    for (const tg of f.targetGroups) if (!tgs.has(tg.name)) tgs.set(tg.name, { tg, member: f.name });
  }
  const rules: Array<{ rule: AlbRule; member: string }> = [];
  for (const p of live) {
    if (p.priority === undefined) continue;
    rules.push({ rule: { ...p.rule, priority: p.priority }, member: p.member });
  }
  attribution.last = applied.at(-1)?.name;
  for (const r of carried) {
    if (!listeners.has(r.listenerPort)) {
      const l = previous?.listeners.find((x) => x.port === r.listenerPort);
      if (l) {
        listeners.set(l.port, { port: l.port, protocol: l.protocol ?? 'HTTP' });
        listenerOwner.set(l.port, r.ingressName ?? '');
      }
    }
    for (const ref of r.action.forward?.targetGroups ?? []) {
      const tg = previous?.targetGroups?.find((t) => t.name === ref.name);
      if (tg && !tgs.has(tg.name)) tgs.set(tg.name, { tg, member: r.ingressName ?? '' });
    }
    rules.push({ rule: r, member: r.ingressName ?? '' });
  }
  rules.sort((a, b) => a.rule.listenerPort - b.rule.listenerPort || a.rule.priority - b.rule.priority);
  const tgList = [...tgs.values()].sort((a, b) => (a.tg.name < b.tg.name ? -1 : a.tg.name > b.tg.name ? 1 : 0));
  attribution.rules = rules.map((r) => r.member);
  attribution.targetGroups = tgList.map((t) => t.member);

  const listenerList = [...listeners.values()].sort((a, b) => a.port - b.port);
  for (const l of listenerList) {
    attribution.listeners.push(listenerOwner.get(l.port) ?? '');
    if (l.protocol === 'HTTPS') {
      l.certificateArns = [...certs];
      if (settings.sslPolicy) l.sslPolicy = settings.sslPolicy;
    }
    l.defaultAction = defaultAction ?? NOT_FOUND;
  }
  const spec: ApplicationLoadBalancerSpec = {
    ingresses: allMembers.map((m) => ({ name: m.name, order: m.order })),
    listeners: listenerList,
    rules: rules.map((r) => r.rule),
    targetGroups: tgList.map((t) => t.tg),
  };
  if (group.groupName) spec.groupName = group.groupName;
  // ssl-policy lives on the HTTPS listeners, not the spec.
  // A broken member keeps what it had, group settings included: a setting no applied member sets keeps
  // its previous value (otherwise a broken sole member would flip its ALB to the defaults, e.g. the scheme,
  // and have it replaced). Which member set it before is not recorded, so any broken member keeps them all.
  if (previous && carried.length > 0) {
    for (const key of Object.keys(SETTING_ANNOTATION) as Array<keyof GroupSettings>) {
      if (key === 'sslPolicy' || settings[key] !== undefined) continue;
      const was = (previous as unknown as Record<string, unknown>)[key];
      if (was !== undefined) (settings as Record<string, unknown>)[key] = structuredClone(was);
    }
  }
  const { sslPolicy: _sslPolicy, ...specSettings } = settings;
  Object.assign(spec, specSettings);
  if (listenerList.length === 0) delete (spec as Partial<ApplicationLoadBalancerSpec>).listeners;
  return { spec, attribution, conflicts };
}

/**
 * Every problem the CRD's validator finds in a member that is left out, on its own: so one Event lists
 * every bad field of the Ingress, not only the first the parsers or the validator stop at. The validator
 * checks CEL rules only once the schema holds, so what it complains about is taken out and it runs again
 * (a few rounds). Fields that already have an error are skipped: a value that failed to parse leaves a
 * hole the validator would report again.
 */
function soloErrors(group: IngressGroup, fragment: MemberFragment, known: readonly TranslateError[]): TranslateError[] {
  const built = build(group, [fragment], new Set(), undefined, [{ name: fragment.name, order: fragment.order }]);
  if (!built.spec.listeners) return [];
  const spec = built.spec as unknown as Record<string, unknown>;
  const seen = new Set(known.map((e) => e.field));
  const out: TranslateError[] = [];
  for (let round = 0; round < 4; round++) {
    const v = validateApplicationLoadBalancerSpec(spec);
    if (v.ok) break;
    let dropped = false;
    for (const e of v.errors) {
      const field = fieldOfPath(e.path);
      if (!seen.has(field)) {
        seen.add(field);
        out.push({ field, message: `${e.message} (${e.path})` });
      }
      dropped = dropPath(spec, e.path) || dropped;
    }
    if (!dropped) break;
  }
  return out;
}

/**
 * Translates one group. Members are parsed on their own; a member whose annotations or backends are
 * wrong, that conflicts with the group, or whose part of the spec the CRD's validator refuses, is left
 * out (keeping what it had before) and the rest is applied.
 */
export function translateGroup(input: TranslateGroupInput): GroupTranslation {
  const { group } = input;
  const services = new Map(input.services.map((s) => [s.metadata?.name ?? '', s]));
  const previous = input.previous?.spec;
  const results = new Map<string, MemberResult>();
  const fragments: MemberFragment[] = [];
  const allMembers: Array<{ name: string; order: number }> = [];
  const candidates = new Map<string, MemberFragment>();
  for (const ing of group.members) {
    const name = ing.metadata?.name ?? '';
    const p = parseMember(ing, services);
    allMembers.push({ name, order: p.ok ? p.fragment.order : p.order });
    if (p.ok) {
      fragments.push(p.fragment);
      results.set(name, { name, applied: true, errors: [] });
    } else results.set(name, { name, applied: false, errors: p.errors });
    candidates.set(name, p.ok ? p.fragment : p.partial);
  }
  const broken = new Set([...results.values()].filter((r) => !r.applied).map((r) => r.name));
  const groupErrors: TranslateError[] = [];
  let spec: ApplicationLoadBalancerSpec | undefined;
  // Each round either validates or isolates at least one more member.
  for (let round = 0; round <= group.members.length; round++) {
    const live = fragments.filter((f) => !broken.has(f.name));
    if (live.length === 0 && !(previous?.rules ?? []).length) break;
    const built = build(group, live, broken, previous, allMembers);
    for (const [member, errs] of built.conflicts) {
      broken.add(member);
      const r = results.get(member);
      if (r) {
        r.applied = false;
        r.errors.push(...errs);
      }
    }
    if (!built.spec.listeners) {
      if (live.length > 0) groupErrors.push({ field: ANNOTATIONS.listenPorts, message: 'no listener: no member of the group can be applied' });
      break;
    }
    const v = validateApplicationLoadBalancerSpec(built.spec);
    if (v.ok) {
      spec = v.value;
      break;
    }
    let isolated = false;
    for (const e of v.errors) {
      const member = memberOfPath(e.path, built.attribution);
      const r = member ? results.get(member) : undefined;
      if (r && !broken.has(r.name)) {
        broken.add(r.name);
        r.applied = false;
        isolated = true;
      }
      if (r) r.errors.push({ field: fieldOfPath(e.path), message: `${e.message} (${e.path})` });
      else groupErrors.push({ field: fieldOfPath(e.path), message: `${e.message} (${e.path})` });
    }
    if (!isolated) break;
    groupErrors.length = 0;
  }
  for (const r of results.values()) {
    const f = candidates.get(r.name);
    if (!r.applied && f) r.errors.push(...soloErrors(group, f, r.errors));
  }
  const members = group.members.map((m) => results.get(m.metadata?.name ?? '') as MemberResult);
  if (!spec) return { members, errors: groupErrors };
  for (const m of group.members) assertOwnerAllowed({ ...m, kind: m.kind ?? 'Ingress' }, group.namespace);
  const resource: ApplicationLoadBalancer = {
    apiVersion: APPLICATION_LOAD_BALANCER.apiVersion,
    kind: APPLICATION_LOAD_BALANCER.kind,
    metadata: {
      name: group.name,
      namespace: group.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      // Every member owns the group's ALB; none is the controller, so the garbage collector removes it
      // when the last member is gone.
      ownerReferences: group.members.map((m) => ownerReference(m, { type: resources.Ingress, controller: false })),
    },
    spec,
  };
  return { resource, members, errors: groupErrors };
}
