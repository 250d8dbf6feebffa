// Stage 1, pure, per Ingress: one member Ingress (+ its annotations and the Services it names) becomes a
// fragment of its group's ApplicationLoadBalancer: group-wide settings, listen ports, rules (without
// priorities) and target groups. Every problem names the annotation or the Ingress field.
import { createHash } from 'node:crypto';
import type { AlbAction, AlbHealthCheckOverride, AlbTargetGroup, ApplicationLoadBalancerSpec } from '@kube-iaas/crds';
import { ANNOTATIONS, USE_ANNOTATION } from '../constants.ts';
import { parseAction, parseBoolean, parseCertificateArns, parseEnum, parseInteger, parseKeyValues, parseList, parseListenPorts, type ListenPort, type Parsed } from './parse.ts';
import type { IngressBackend, IngressLike, ServiceLike, TranslateError } from './types.ts';

/** Settings that belong to the whole ALB; members of a group must agree on them. */
export interface GroupSettings {
  scheme?: NonNullable<ApplicationLoadBalancerSpec['scheme']>;
  ipAddressType?: NonNullable<ApplicationLoadBalancerSpec['ipAddressType']>;
  loadBalancerName?: string;
  subnets?: string[];
  securityGroups?: string[];
  manageBackendSecurityGroupRules?: boolean;
  inboundCidrs?: string[];
  sslPolicy?: string;
  sslRedirectPort?: number;
  additionalTags?: Record<string, string>;
  attributes?: Record<string, string>;
}

/** The annotation behind each group setting (for conflict messages). */
export const SETTING_ANNOTATION: Record<keyof GroupSettings, string> = {
  scheme: ANNOTATIONS.scheme,
  ipAddressType: ANNOTATIONS.ipAddressType,
  loadBalancerName: ANNOTATIONS.loadBalancerName,
  subnets: ANNOTATIONS.subnets,
  securityGroups: ANNOTATIONS.securityGroups,
  manageBackendSecurityGroupRules: ANNOTATIONS.manageBackendSecurityGroupRules,
  inboundCidrs: ANNOTATIONS.inboundCidrs,
  sslPolicy: ANNOTATIONS.sslPolicy,
  sslRedirectPort: ANNOTATIONS.sslRedirect,
  additionalTags: ANNOTATIONS.tags,
  attributes: ANNOTATIONS.loadBalancerAttributes,
};

/** A rule before it is placed on listeners and given a priority. */
export interface MemberRule {
  hosts?: string[];
  paths?: string[];
  action: AlbAction;
  /** The Ingress field it came from, e.g. `spec.rules[0].http.paths[1]`. */
  field: string;
}

export interface MemberFragment {
  name: string;
  order: number;
  settings: GroupSettings;
  listenPorts: ListenPort[];
  certificateArns: string[];
  rules: MemberRule[];
  targetGroups: AlbTargetGroup[];
  defaultAction?: AlbAction;
}

/**
 * A broken member's `partial` fragment holds what did parse: translateGroup validates it on its own so
 * that problems only the CRD's validator sees are reported in the same Event as the annotation errors.
 */
export type MemberParse = { ok: true; fragment: MemberFragment } | { ok: false; name: string; order: number; errors: TranslateError[]; partial: MemberFragment };

const asString = (raw: string): Parsed<string> => ({ ok: true, value: raw.trim() });
const asList = (raw: string): Parsed<string[]> => ({ ok: true, value: parseList(raw) });
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

class Reader {
  readonly errors: TranslateError[] = [];
  readonly annotations: Record<string, string>;
  constructor(annotations: Record<string, string>) {
    this.annotations = annotations;
  }
  read<T>(key: string, parse: (raw: string) => Parsed<T>): T | undefined {
    const raw = this.annotations[key];
    if (raw === undefined) return undefined;
    const r = parse(raw);
    if (!r.ok) {
      this.errors.push({ field: key, message: r.message });
      return undefined;
    }
    return r.value;
  }
  error(field: string, message: string): void {
    this.errors.push({ field, message });
  }
}

/** `group.name` of an Ingress (undefined: a group of one) or an error naming the annotation. */
export function groupNameOf(ing: IngressLike): Parsed<string | undefined> {
  const raw = ing.metadata?.annotations?.[ANNOTATIONS.groupName];
  if (raw === undefined) return { ok: true, value: undefined };
  const v = raw.trim();
  if (v.length === 0 || v.length > 63 || !DNS_LABEL.test(v)) return { ok: false, message: `${JSON.stringify(raw)} is not a DNS label (lower-case letters, digits and -, at most 63 characters)` };
  return { ok: true, value: v };
}

/** `group.order` (default 0, -1000..1000) or an error. */
export function groupOrderOf(ing: IngressLike): Parsed<number> {
  const raw = ing.metadata?.annotations?.[ANNOTATIONS.groupOrder];
  if (raw === undefined) return { ok: true, value: 0 };
  const n = parseInteger(raw);
  if (!n.ok) return n;
  if (n.value < -1000 || n.value > 1000) return { ok: false, message: `${n.value} is outside -1000 to 1000` };
  return n;
}

function settings(r: Reader): GroupSettings {
  const s: GroupSettings = {};
  const scheme = r.read(ANNOTATIONS.scheme, parseEnum(['internet-facing', 'internal'] as const));
  if (scheme) s.scheme = scheme;
  const ipType = r.read(ANNOTATIONS.ipAddressType, parseEnum(['ipv4', 'dualstack', 'dualstack-without-public-ipv4'] as const));
  if (ipType) s.ipAddressType = ipType;
  const lbName = r.read(ANNOTATIONS.loadBalancerName, asString);
  if (lbName !== undefined) s.loadBalancerName = lbName;
  const subnets = r.read(ANNOTATIONS.subnets, asList);
  if (subnets?.length) s.subnets = subnets;
  const sgs = r.read(ANNOTATIONS.securityGroups, asList);
  if (sgs?.length) s.securityGroups = sgs;
  const manage = r.read(ANNOTATIONS.manageBackendSecurityGroupRules, parseBoolean);
  if (manage !== undefined) s.manageBackendSecurityGroupRules = manage;
  const cidrs = r.read(ANNOTATIONS.inboundCidrs, asList);
  if (cidrs?.length) s.inboundCidrs = cidrs;
  const policy = r.read(ANNOTATIONS.sslPolicy, asString);
  if (policy) s.sslPolicy = policy;
  const redirect = r.read(ANNOTATIONS.sslRedirect, parseInteger);
  if (redirect !== undefined) s.sslRedirectPort = redirect;
  const tags = r.read(ANNOTATIONS.tags, parseKeyValues);
  if (tags && Object.keys(tags).length > 0) s.additionalTags = tags;
  const attrs = r.read(ANNOTATIONS.loadBalancerAttributes, parseKeyValues);
  if (attrs && Object.keys(attrs).length > 0) s.attributes = attrs;
  return s;
}

function healthCheck(r: Reader): AlbHealthCheckOverride {
  const hc: AlbHealthCheckOverride = {};
  const protocol = r.read(ANNOTATIONS.healthcheckProtocol, parseEnum(['HTTP', 'HTTPS'] as const, (s) => s.toUpperCase()));
  if (protocol) hc.protocol = protocol;
  const port = r.read(ANNOTATIONS.healthcheckPort, (raw): Parsed<number | 'traffic-port'> => (raw.trim() === 'traffic-port' ? { ok: true, value: 'traffic-port' } : parseInteger(raw)));
  if (typeof port === 'number') hc.port = port;
  const path = r.read(ANNOTATIONS.healthcheckPath, asString);
  if (path !== undefined) hc.path = path;
  const ints: Array<[string, 'intervalSeconds' | 'timeoutSeconds' | 'healthyThreshold' | 'unhealthyThreshold']> = [
    [ANNOTATIONS.healthcheckInterval, 'intervalSeconds'],
    [ANNOTATIONS.healthcheckTimeout, 'timeoutSeconds'],
    [ANNOTATIONS.healthyThreshold, 'healthyThreshold'],
    [ANNOTATIONS.unhealthyThreshold, 'unhealthyThreshold'],
  ];
  for (const [key, f] of ints) {
    const v = r.read(key, parseInteger);
    if (v !== undefined) hc[f] = v;
  }
  const codes = r.read(ANNOTATIONS.successCodes, asString);
  if (codes !== undefined) hc.successCodes = codes;
  return hc;
}

/** The path-pattern values of an Ingress path. */
export function pathPatterns(pathType: string, path: string | undefined): Parsed<string[] | undefined> {
  if (path !== undefined && path !== '' && !path.startsWith('/')) return { ok: false, message: `path ${JSON.stringify(path)} must start with /` };
  switch (pathType) {
    case 'Exact':
      if (!path) return { ok: false, message: 'an Exact path needs a path' };
      return { ok: true, value: [path] };
    case 'Prefix': {
      const p = (path ?? '/').replace(/\/+$/, '');
      return { ok: true, value: p === '' ? ['/*'] : [p, `${p}/*`] };
    }
    case 'ImplementationSpecific':
      // ALB path patterns: * and ? are wildcards, as the AWS Load Balancer Controller reads them.
      return { ok: true, value: path ? [path] : ['/*'] };
    default:
      return { ok: false, message: `pathType ${JSON.stringify(pathType)} is not Prefix, Exact or ImplementationSpecific` };
  }
}

/** Spec name of the target group for (Service, port): `<service>-<port>`, hashed when too long. */
export function targetGroupKey(service: string, port: number): string {
  const base = `${service}-${port}`;
  if (base.length <= 63) return base;
  const h = createHash('sha256').update(base).digest('hex').slice(0, 8);
  return `${service.slice(0, 63 - 1 - String(port).length - 1 - 8).replace(/-+$/, '')}-${port}-${h}`;
}

interface BackendContext {
  r: Reader;
  services: ReadonlyMap<string, ServiceLike>;
  actions: Map<string, AlbAction>;
  tgs: Map<string, AlbTargetGroup>;
  protocol?: 'HTTP' | 'HTTPS';
  healthCheck: AlbHealthCheckOverride;
  attributes?: Record<string, string>;
}

/** The action for a backend, resolving the Service to its NodePort; errors name `field`. */
function backendAction(ctx: BackendContext, b: IngressBackend, field: string): AlbAction | undefined {
  const { r } = ctx;
  if (b.resource) {
    r.error(`${field}.resource`, 'resource backends are not supported; use a Service backend');
    return undefined;
  }
  const s = b.service;
  if (!s) {
    r.error(`${field}.service`, 'a backend needs a Service');
    return undefined;
  }
  if (s.port?.name === USE_ANNOTATION) {
    const key = `${ANNOTATIONS.actionPrefix}${s.name}`;
    const a = ctx.actions.get(key);
    if (!a) r.error(key, `backend ${field} uses port name ${USE_ANNOTATION} but annotation ${key} is missing or invalid`);
    return a;
  }
  const svc = ctx.services.get(s.name);
  if (!svc) {
    r.error(`${field}.service.name`, `Service ${JSON.stringify(s.name)} does not exist in this namespace`);
    return undefined;
  }
  const type = svc.spec?.type ?? 'ClusterIP';
  if (type !== 'NodePort' && type !== 'LoadBalancer') {
    r.error(`${field}.service.name`, `Service ${JSON.stringify(s.name)} is of type ${type}; instance targets need a NodePort, so the Service must be of type NodePort or LoadBalancer`);
    return undefined;
  }
  const ports = svc.spec?.ports ?? [];
  let sp;
  if (s.port?.name !== undefined) {
    sp = ports.find((p) => p.name === s.port?.name);
    if (!sp) {
      r.error(`${field}.service.port.name`, `Service ${JSON.stringify(s.name)} has no port named ${JSON.stringify(s.port.name)} (ports: ${ports.map((p) => p.name ?? p.port).join(', ') || 'none'})`);
      return undefined;
    }
  } else if (s.port?.number !== undefined) {
    sp = ports.find((p) => p.port === s.port?.number);
    if (!sp) {
      r.error(`${field}.service.port.number`, `Service ${JSON.stringify(s.name)} has no port ${s.port.number} (ports: ${ports.map((p) => p.port).join(', ') || 'none'})`);
      return undefined;
    }
  } else {
    r.error(`${field}.service.port`, 'a Service backend needs a port name or number');
    return undefined;
  }
  if (!sp.nodePort) {
    r.error(`${field}.service.port`, `port ${sp.port} of Service ${JSON.stringify(s.name)} has no NodePort yet`);
    return undefined;
  }
  const name = targetGroupKey(s.name, sp.port);
  if (!ctx.tgs.has(name)) {
    const tg: AlbTargetGroup = { name, serviceRef: { name: s.name, port: sp.port }, targetType: 'instance', targetPort: sp.nodePort };
    if (ctx.protocol) tg.protocol = ctx.protocol;
    if (Object.keys(ctx.healthCheck).length > 0) tg.healthCheck = { ...ctx.healthCheck };
    if (ctx.attributes) tg.attributes = { ...ctx.attributes };
    ctx.tgs.set(name, tg);
  }
  return { type: 'forward', forward: { targetGroups: [{ name, weight: 1 }] } };
}

/** Parses one member Ingress against the Services of its namespace (by name). */
export function parseMember(ing: IngressLike, services: ReadonlyMap<string, ServiceLike>): MemberParse {
  const name = ing.metadata?.name ?? '';
  const annotations = ing.metadata?.annotations ?? {};
  const r = new Reader(annotations);
  const orderP = groupOrderOf(ing);
  const order = orderP.ok ? orderP.value : 0;
  if (!orderP.ok) r.error(ANNOTATIONS.groupOrder, orderP.message);
  const groupP = groupNameOf(ing);
  if (!groupP.ok) r.error(ANNOTATIONS.groupName, groupP.message);

  const s = settings(r);
  const certsRaw = r.read(ANNOTATIONS.certificateArn, parseCertificateArns);
  const certs = certsRaw ?? [];
  const listenPorts = r.read(ANNOTATIONS.listenPorts, parseListenPorts) ?? (certs.length > 0 ? [{ protocol: 'HTTPS' as const, port: 443 }] : [{ protocol: 'HTTP' as const, port: 80 }]);
  // A certificate-arn that did not parse is already reported under its own name.
  if (listenPorts.some((l) => l.protocol === 'HTTPS') && certs.length === 0 && (certsRaw !== undefined || annotations[ANNOTATIONS.certificateArn] === undefined)) r.error(ANNOTATIONS.certificateArn, `listen-ports has an HTTPS port, which needs a certificate: set ${ANNOTATIONS.certificateArn}`);
  if (s.sslRedirectPort !== undefined && !listenPorts.some((l) => l.protocol === 'HTTPS' && l.port === s.sslRedirectPort)) {
    r.error(ANNOTATIONS.sslRedirect, `port ${s.sslRedirectPort} is not an HTTPS port of ${ANNOTATIONS.listenPorts}`);
  }
  const targetType = r.read(ANNOTATIONS.targetType, parseEnum(['instance', 'ip'] as const));
  if (targetType === 'ip') r.error(ANNOTATIONS.targetType, 'ip is not supported yet (it needs the eni-operator\'s pod IPs); use instance (targets are the nodes on the Service\'s NodePort)');
  const backendProtocol = r.read(ANNOTATIONS.backendProtocol, parseEnum(['HTTP', 'HTTPS'] as const, (x) => x.toUpperCase()));
  const tgAttributes = r.read(ANNOTATIONS.targetGroupAttributes, parseKeyValues);

  const actions = new Map<string, AlbAction>();
  for (const key of Object.keys(annotations)) {
    if (!key.startsWith(ANNOTATIONS.actionPrefix)) continue;
    const a = r.read(key, parseAction);
    if (a) actions.set(key, a);
  }

  const ctx: BackendContext = { r, services, actions, tgs: new Map(), healthCheck: healthCheck(r) };
  if (backendProtocol) ctx.protocol = backendProtocol;
  if (tgAttributes && Object.keys(tgAttributes).length > 0) ctx.attributes = tgAttributes;

  const rules: MemberRule[] = [];
  const seen = new Set<string>();
  (ing.spec?.rules ?? []).forEach((rule, i) => {
    const host = rule.host?.trim();
    (rule.http?.paths ?? []).forEach((p, j) => {
      const field = `spec.rules[${i}].http.paths[${j}]`;
      const patterns = pathPatterns(p.pathType, p.path);
      if (!patterns.ok) {
        r.error(`${field}.${p.pathType && !['Exact', 'Prefix', 'ImplementationSpecific'].includes(p.pathType) ? 'pathType' : 'path'}`, patterns.message);
        return;
      }
      const action = backendAction(ctx, p.backend, `${field}.backend`);
      if (!action) return;
      const mr: MemberRule = { action, field };
      if (host) mr.hosts = [host];
      if (patterns.value) mr.paths = patterns.value;
      const key = JSON.stringify([mr.hosts ?? [], mr.paths ?? []]);
      // The same host + path twice in one Ingress: the first wins, as Kubernetes reads it.
      if (seen.has(key)) return;
      seen.add(key);
      rules.push(mr);
    });
  });
  let defaultAction: AlbAction | undefined;
  if (ing.spec?.defaultBackend) defaultAction = backendAction(ctx, ing.spec.defaultBackend, 'spec.defaultBackend');

  const fragment: MemberFragment = { name, order, settings: s, listenPorts, certificateArns: certs, rules, targetGroups: [...ctx.tgs.values()] };
  if (defaultAction) fragment.defaultAction = defaultAction;
  if (r.errors.length > 0) return { ok: false, name, order, errors: r.errors, partial: fragment };
  return { ok: true, fragment };
}
