// Stage 1, pure: a Service of type LoadBalancer (+ its annotations) becomes the NetworkLoadBalancer that
// describes the whole desired NLB. Same namespace and name, owned by the Service. No I/O: subnet discovery,
// nodes and NodePort changes are read by stage 2.
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { NETWORK_LOAD_BALANCER, NLB_ATTRIBUTES, NLB_MAX_LISTENERS, NLB_TARGET_GROUP_ATTRIBUTES, checkAttributes, validateNetworkLoadBalancerSpec } from '@kube-iaas/crds';
import type { AttributeTable } from '@kube-iaas/crds';
import type { NetworkLoadBalancer, NetworkLoadBalancerSpec, NlbHealthCheck, NlbListener } from '@kube-iaas/crds';
import { ownerReference, resources } from '@kube-iaas/core/runtime';
import { ANNOTATIONS, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../constants.ts';
import { parseBoolean, parseInteger, parseKeyValues, parseList, type Parsed } from '@kube-iaas/core/annotation-values';
import { selectService, type SelectedBy } from './select.ts';

/** One problem with the Service, naming the annotation or the Service field it comes from. */
export interface TranslateError {
  /** An annotation key, or a Service field path such as `spec.ports[0].nodePort`. */
  field: string;
  message: string;
}

export type TranslateResult =
  | { ok: true; resource: NetworkLoadBalancer; selectedBy: SelectedBy }
  | { ok: false; errors: TranslateError[] };

/** `field: message; field: message` for Events and conditions. */
export function formatTranslateErrors(errors: readonly TranslateError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}

/** Where each part of the spec came from, so validator errors can name the annotation. */
type Sources = Array<[specPath: string, field: string]>;

class Builder {
  readonly errors: TranslateError[] = [];
  readonly sources: Sources = [];
  /** Spec paths left incomplete by an error already reported, whose schema errors would only repeat it. */
  readonly tainted = new Set<string>();
  readonly annotations: Record<string, string>;

  constructor(annotations: Record<string, string>) {
    this.annotations = annotations;
  }

  has(key: string): boolean {
    return this.annotations[key] !== undefined;
  }

  /** The annotation's value run through `parse`; records an error naming it when parsing fails. */
  read<T>(key: string, parse: (raw: string) => Parsed<T>, specPath?: string): T | undefined {
    const raw = this.annotations[key];
    if (raw === undefined) return undefined;
    const r = parse(raw);
    if (!r.ok) {
      this.errors.push({ field: key, message: r.message });
      return undefined;
    }
    if (specPath) this.sources.push([specPath, key]);
    return r.value;
  }

  error(field: string, message: string, taints?: string): void {
    this.errors.push({ field, message });
    if (taints) this.tainted.add(taints);
  }

  isTainted(path: string): boolean {
    for (const t of this.tainted) if (path === t || path.startsWith(`${t}.`) || path.startsWith(`${t}[`)) return true;
    return false;
  }

  /** Maps a validator path (`spec.healthCheck.path`) to the annotation or Service field behind it. */
  fieldFor(path: string): string {
    let best: [string, string] | undefined;
    for (const s of this.sources) {
      const [prefix] = s;
      if ((path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`)) && (!best || prefix.length > best[0].length)) best = s;
    }
    return best?.[1] ?? path;
  }
}

const asString = (raw: string): Parsed<string> => ({ ok: true, value: raw.trim() });
const asList = (raw: string): Parsed<string[]> => ({ ok: true, value: parseList(raw) });
const asUpper = (raw: string): Parsed<string> => ({ ok: true, value: raw.trim().toUpperCase() });

/** The legacy `aws-load-balancer-internal` annotation: `true` (or the cloud provider's `0.0.0.0/0`) / `false`. */
function parseInternal(raw: string): Parsed<boolean> {
  if (raw.trim() === '0.0.0.0/0') return { ok: true, value: true };
  return parseBoolean(raw);
}

function scheme(b: Builder, selectedBy: SelectedBy): NetworkLoadBalancerSpec['scheme'] {
  const explicit = b.read(ANNOTATIONS.scheme, asString, 'spec.scheme');
  if (explicit !== undefined) return explicit as NetworkLoadBalancerSpec['scheme'];
  const internal = b.read(ANNOTATIONS.internal, parseInternal, 'spec.scheme');
  if (internal !== undefined) return internal ? 'internal' : 'internet-facing';
  // The article's annotation gets the cloud provider's default; our class gets the AWS Load Balancer
  // Controller's safer one.
  return selectedBy === 'annotation' ? 'internet-facing' : 'internal';
}

function healthCheck(b: Builder): NlbHealthCheck {
  const hc: NlbHealthCheck = {};
  const protocol = b.read(ANNOTATIONS.healthcheckProtocol, asUpper, 'spec.healthCheck.protocol');
  if (protocol !== undefined) hc.protocol = protocol as NlbHealthCheck['protocol'];
  const port = b.read(
    ANNOTATIONS.healthcheckPort,
    (raw): Parsed<number | 'traffic-port'> => (raw.trim() === 'traffic-port' ? { ok: true, value: 'traffic-port' } : parseInteger(raw)),
    'spec.healthCheck.port',
  );
  if (typeof port === 'number') hc.port = port;
  const path = b.read(ANNOTATIONS.healthcheckPath, asString, 'spec.healthCheck.path');
  if (path !== undefined) hc.path = path;
  const ints: Array<[string, 'intervalSeconds' | 'timeoutSeconds' | 'healthyThreshold' | 'unhealthyThreshold']> = [
    [ANNOTATIONS.healthcheckInterval, 'intervalSeconds'],
    [ANNOTATIONS.healthcheckTimeout, 'timeoutSeconds'],
    [ANNOTATIONS.healthcheckHealthyThreshold, 'healthyThreshold'],
    [ANNOTATIONS.healthcheckUnhealthyThreshold, 'unhealthyThreshold'],
  ];
  for (const [key, field] of ints) {
    const v = b.read(key, parseInteger, `spec.healthCheck.${field}`);
    if (v !== undefined) hc[field] = v;
  }
  const codes = b.read(ANNOTATIONS.healthcheckSuccessCodes, asString, 'spec.healthCheck.successCodes');
  if (codes !== undefined) hc.successCodes = codes;
  return hc;
}

interface TlsSettings {
  certificateArns: string[];
  /** Port names and numbers given in ssl-ports; undefined = every port. */
  ports: Set<string> | undefined;
  sslPolicy?: string;
  alpnPolicy?: NlbListener['alpnPolicy'];
  backendTls: boolean;
}

function tls(b: Builder): TlsSettings | undefined {
  const certs = b.read(ANNOTATIONS.sslCert, asList);
  const portsRaw = b.read(ANNOTATIONS.sslPorts, asList);
  const policy = b.read(ANNOTATIONS.sslNegotiationPolicy, asString);
  const alpn = b.read(ANNOTATIONS.alpnPolicy, asString);
  const backend = b.read(ANNOTATIONS.backendProtocol, (raw): Parsed<boolean> => {
    const v = raw.trim().toLowerCase();
    if (v === 'ssl' || v === 'tls') return { ok: true, value: true };
    if (v === 'tcp') return { ok: true, value: false };
    return { ok: false, message: `unsupported value ${JSON.stringify(raw)}: an NLB supports tcp or ssl` };
  });
  if (!certs?.length) {
    for (const [key, given] of [
      [ANNOTATIONS.sslPorts, portsRaw],
      [ANNOTATIONS.sslNegotiationPolicy, policy],
      [ANNOTATIONS.alpnPolicy, alpn],
    ] as const) {
      if (given !== undefined) b.error(key, `needs ${ANNOTATIONS.sslCert} (TLS listeners need a certificate)`);
    }
    return undefined;
  }
  const all = !portsRaw || portsRaw.includes('*');
  const out: TlsSettings = { certificateArns: certs, ports: all ? undefined : new Set(portsRaw), backendTls: backend ?? false };
  if (policy) out.sslPolicy = policy;
  if (alpn) out.alpnPolicy = alpn as NlbListener['alpnPolicy'];
  return out;
}

function isTlsPort(t: TlsSettings | undefined, p: V1ServicePort): boolean {
  if (!t) return false;
  if (!t.ports) return true;
  return t.ports.has(String(p.port)) || (p.name !== undefined && t.ports.has(p.name));
}

function listeners(b: Builder, svc: V1Service, t: TlsSettings | undefined): NlbListener[] {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) {
    b.error('spec.ports', 'a Service of type LoadBalancer needs at least one port', 'spec.listeners');
    return [];
  }
  // TCP and UDP on the same port number are one TCP_UDP listener.
  const byPort = new Map<number, { index: number; port: V1ServicePort; protocols: Set<string> }>();
  ports.forEach((p, index) => {
    const protocol = p.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      b.error(`spec.ports[${index}].protocol`, `${protocol} is not supported by a Network Load Balancer (TCP or UDP)`, 'spec.listeners');
      return;
    }
    if (!p.nodePort) {
      b.error(`spec.ports[${index}].nodePort`, 'the port has no NodePort (allocateLoadBalancerNodePorts is false?); instance targets need one', 'spec.listeners');
      return;
    }
    const seen = byPort.get(p.port);
    if (!seen) {
      byPort.set(p.port, { index, port: p, protocols: new Set([protocol]) });
      return;
    }
    if (seen.port.nodePort !== p.nodePort) {
      b.error(`spec.ports[${index}].nodePort`, `TCP and UDP on port ${p.port} become one TCP_UDP listener and need the same NodePort (${seen.port.nodePort} and ${p.nodePort})`, 'spec.listeners');
      return;
    }
    seen.protocols.add(protocol);
  });
  if (byPort.size > NLB_MAX_LISTENERS) {
    b.error('spec.ports', `${byPort.size} listener ports, but an NLB allows at most ${NLB_MAX_LISTENERS}`, 'spec.listeners');
  }
  if (t?.ports) {
    for (const want of t.ports) {
      if (!ports.some((p) => String(p.port) === want || p.name === want)) b.error(ANNOTATIONS.sslPorts, `no Service port is named or numbered ${JSON.stringify(want)}`);
    }
  }
  const out: NlbListener[] = [];
  for (const { index, port: p, protocols } of byPort.values()) {
    const path = `spec.listeners[${out.length}]`;
    b.sources.push([path, `spec.ports[${index}]`]);
    const l: NlbListener = { port: p.port, targetPort: p.nodePort as number };
    if (p.name) l.name = p.name;
    const both = protocols.size > 1;
    const udp = protocols.has('UDP');
    if (isTlsPort(t, p) && t) {
      if (udp) {
        b.error(ANNOTATIONS.sslPorts, `port ${p.port} is UDP and cannot be a TLS listener`, 'spec.listeners');
        continue;
      }
      l.protocol = 'TLS';
      l.certificateArns = [...t.certificateArns];
      if (t.sslPolicy) l.sslPolicy = t.sslPolicy;
      if (t.alpnPolicy) l.alpnPolicy = t.alpnPolicy;
      l.targetProtocol = t.backendTls ? 'TLS' : 'TCP';
      b.sources.push([`${path}.certificateArns`, ANNOTATIONS.sslCert], [`${path}.sslPolicy`, ANNOTATIONS.sslNegotiationPolicy], [`${path}.alpnPolicy`, ANNOTATIONS.alpnPolicy]);
    } else {
      l.protocol = both ? 'TCP_UDP' : udp ? 'UDP' : 'TCP';
    }
    out.push(l);
  }
  return out.sort((a, b2) => a.port - b2.port);
}

/**
 * The attributes of one annotation, each key and value checked against what AWS documents for it.
 * Bad ones are reported under the annotation's name and left out, so the schema check that follows
 * does not report them a second time under the spec field.
 */
function knownAttributes(b: Builder, key: string, table: AttributeTable, what: string, specPath: string): Record<string, string> {
  const attrs = { ...(b.read(key, parseKeyValues, specPath) ?? {}) };
  for (const p of checkAttributes(table, attrs, what)) {
    b.error(key, p.message);
    delete attrs[p.key];
  }
  return attrs;
}

function attributes(b: Builder): { lb: Record<string, string>; tg: Record<string, string> } {
  const lb = knownAttributes(b, ANNOTATIONS.attributes, NLB_ATTRIBUTES, 'Network Load Balancer', 'spec.attributes');
  const crossZone = b.read(ANNOTATIONS.crossZone, parseBoolean, 'spec.attributes');
  if (crossZone !== undefined) lb['load_balancing.cross_zone.enabled'] = String(crossZone);
  const tg = knownAttributes(b, ANNOTATIONS.targetGroupAttributes, NLB_TARGET_GROUP_ATTRIBUTES, 'target group', 'spec.targetGroupAttributes');
  const proxy = b.read(
    ANNOTATIONS.proxyProtocol,
    (raw): Parsed<boolean> => (raw.trim() === '*' ? { ok: true, value: true } : { ok: false, message: `unsupported value ${JSON.stringify(raw)}: the only value is "*" (proxy protocol v2 on every port)` }),
  );
  if (proxy) tg['proxy_protocol_v2.enabled'] = 'true';
  return { lb, tg };
}

/** The desired NetworkLoadBalancer spec for a selected Service, before schema validation. */
function buildSpec(b: Builder, svc: V1Service, selectedBy: SelectedBy): NetworkLoadBalancerSpec {
  const spec: NetworkLoadBalancerSpec = {
    serviceRef: { name: svc.metadata?.name ?? '' },
    scheme: scheme(b, selectedBy),
    listeners: [],
  };
  const name = b.read(ANNOTATIONS.name, asString, 'spec.loadBalancerName');
  if (name !== undefined) spec.loadBalancerName = name;
  const ipType = b.read(ANNOTATIONS.ipAddressType, asString, 'spec.ipAddressType');
  if (ipType !== undefined) spec.ipAddressType = ipType as NetworkLoadBalancerSpec['ipAddressType'];
  const subnets = b.read(ANNOTATIONS.subnets, asList, 'spec.subnets');
  if (subnets !== undefined) spec.subnets = subnets;
  spec.listeners = listeners(b, svc, tls(b));
  const nodeSelector = b.read(ANNOTATIONS.targetNodeLabels, parseKeyValues, 'spec.targets');
  if (nodeSelector && Object.keys(nodeSelector).length > 0) spec.targets = { nodeSelector };
  spec.healthCheck = healthCheck(b);
  const attrs = attributes(b);
  if (Object.keys(attrs.lb).length > 0) spec.attributes = attrs.lb;
  if (Object.keys(attrs.tg).length > 0) spec.targetGroupAttributes = attrs.tg;
  // spec.loadBalancerSourceRanges wins over the annotation, as in the cloud provider.
  const fromSpec = svc.spec?.loadBalancerSourceRanges?.map((s) => s.trim()).filter(Boolean);
  if (fromSpec?.length) {
    spec.sourceRanges = fromSpec;
    b.sources.push(['spec.sourceRanges', 'spec.loadBalancerSourceRanges']);
  } else {
    const ranges = b.read(ANNOTATIONS.sourceRanges, asList, 'spec.sourceRanges');
    if (ranges?.length) spec.sourceRanges = ranges;
  }
  const tags = b.read(ANNOTATIONS.additionalResourceTags, parseKeyValues, 'spec.additionalTags');
  if (tags && Object.keys(tags).length > 0) spec.additionalTags = tags;
  return spec;
}

/**
 * Translates a Service into its NetworkLoadBalancer. Returns errors (each naming the annotation or
 * Service field) when the Service is not selected, an annotation is malformed, or the resulting spec
 * would be refused by the API server (checked with the CRD's own validator). Every problem is
 * reported, not the first: the schema check runs even after a malformed annotation, on the spec
 * built from the others.
 */
export function translateService(svc: V1Service): TranslateResult {
  const selectedBy = selectService(svc);
  if (!selectedBy) return { ok: false, errors: [{ field: 'spec.type', message: 'not a LoadBalancer Service selected by kube-iaas.dev/nlb' }] };
  const b = new Builder(svc.metadata?.annotations ?? {});
  const spec = buildSpec(b, svc, selectedBy);
  const v = validateNetworkLoadBalancerSpec(spec);
  const schemaErrors = v.ok
    ? []
    : v.errors.filter((e) => !b.isTainted(e.path)).map((e) => ({ field: b.fieldFor(e.path), message: e.path === b.fieldFor(e.path) ? e.message : `${e.message} (${e.path})` }));
  const errors = [...b.errors, ...schemaErrors];
  if (errors.length > 0 || !v.ok) return { ok: false, errors };
  const resource: NetworkLoadBalancer = {
    apiVersion: NETWORK_LOAD_BALANCER.apiVersion,
    kind: NETWORK_LOAD_BALANCER.kind,
    metadata: {
      name: svc.metadata?.name ?? '',
      namespace: svc.metadata?.namespace ?? 'default',
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      ownerReferences: [ownerReference(svc, { type: resources.Service })],
    },
    spec: v.value,
  };
  return { ok: true, resource, selectedBy };
}
