// Pure parsers for annotation values. Each returns the value or a message the caller prefixes with the
// annotation's name.
import type { AlbAction } from '@kube-iaas/crds';
import { parseInteger as parseCoreInteger, parsedFail, parsedOk, type Parsed } from '@kube-iaas/core/annotation-values';

export type { Parsed } from '@kube-iaas/core';
export { parseBoolean, parseEnum, parseKeyValues, parseList } from '@kube-iaas/core';

const ok = parsedOk;
const fail = parsedFail;

/** Whole numbers here may be negative: `group.order` runs from -1000 to 1000. */
export function parseInteger(raw: string): Parsed<number> {
  return parseCoreInteger(raw, { allowNegative: true });
}

export interface ListenPort {
  protocol: 'HTTP' | 'HTTPS';
  port: number;
}

/** `[{"HTTP": 80}, {"HTTPS": 443}]` → listen ports, unique by port. */
export function parseListenPorts(raw: string): Parsed<ListenPort[]> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    return fail(`invalid JSON (${(e as Error).message}); expected e.g. [{"HTTP": 80}, {"HTTPS": 443}]`);
  }
  if (!Array.isArray(json) || json.length === 0) return fail('expected a non-empty JSON array such as [{"HTTP": 80}]');
  const out: ListenPort[] = [];
  for (const item of json) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return fail(`item ${JSON.stringify(item)} is not an object like {"HTTP": 80}`);
    const entries = Object.entries(item as Record<string, unknown>);
    if (entries.length !== 1) return fail(`item ${JSON.stringify(item)} must have exactly one key, HTTP or HTTPS`);
    const [protocol, port] = entries[0] as [string, unknown];
    if (protocol !== 'HTTP' && protocol !== 'HTTPS') return fail(`protocol ${JSON.stringify(protocol)} is not HTTP or HTTPS`);
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return fail(`port ${JSON.stringify(port)} is not a number from 1 to 65535`);
    const seen = out.find((l) => l.port === port);
    if (seen && seen.protocol !== protocol) return fail(`port ${port} is given as both HTTP and HTTPS`);
    if (!seen) out.push({ protocol, port });
  }
  return ok(out.sort((a, b) => a.port - b.port));
}

/**
 * `alb.ingress.kubernetes.io/certificate-arn`: a comma-separated list of ACM certificate ARNs
 * (`arn:<partition>:acm:<region>:<account>:certificate/<id>`) or IAM server certificates
 * (`arn:<partition>:iam::<account>:server-certificate/<name>`). Checked here so a wrong value is reported
 * under this annotation's own name, and no AWS call is made with it.
 */
export function parseCertificateArns(raw: string): Parsed<string[]> {
  const out: string[] = [];
  for (const arn of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const p = arn.split(':');
    const [prefix, partition = '', service = '', region = '', account = ''] = p;
    const resource = p.slice(5).join(':');
    const shapeOk =
      prefix === 'arn' &&
      p.length >= 6 &&
      /^aws(-[a-z]+)*$/.test(partition) &&
      /^[0-9]{12}$/.test(account) &&
      arn.length <= 2048 &&
      ((service === 'acm' && /^[a-z0-9-]+$/.test(region) && /^certificate\/[A-Za-z0-9-]+$/.test(resource)) ||
        (service === 'iam' && region === '' && /^server-certificate\/\S+$/.test(resource)));
    if (!shapeOk) {
      return fail(`${JSON.stringify(arn)} is not a certificate ARN: expected arn:<partition>:acm:<region>:<account>:certificate/<id> or arn:<partition>:iam::<account>:server-certificate/<name>`);
    }
    if (!out.includes(arn)) out.push(arn);
  }
  return ok(out);
}

const CONTENT_TYPES = ['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json'] as const;

/**
 * `alb.ingress.kubernetes.io/actions.<name>`: the AWS Load Balancer Controller's JSON for a
 * fixed-response (`fixedResponseConfig`) or redirect (`redirectConfig`) action. Forward actions to
 * weighted target groups are not supported yet.
 */
export function parseAction(raw: string): Parsed<AlbAction> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    return fail(`invalid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('expected a JSON object with "type"');
  const a = json as Record<string, unknown>;
  if (a.type === 'fixed-response') {
    const c = (a.fixedResponseConfig ?? {}) as Record<string, unknown>;
    const code = Number(c.statusCode);
    if (!Number.isInteger(code) || code < 200 || code > 599) return fail(`fixedResponseConfig.statusCode ${JSON.stringify(c.statusCode)} is not an HTTP status from 200 to 599`);
    const out: AlbAction = { type: 'fixed-response', fixedResponse: { statusCode: code } };
    if (c.contentType !== undefined) {
      if (!(CONTENT_TYPES as readonly unknown[]).includes(c.contentType)) return fail(`fixedResponseConfig.contentType ${JSON.stringify(c.contentType)} is not one of ${CONTENT_TYPES.join(', ')}`);
      (out.fixedResponse as { contentType?: string }).contentType = c.contentType as string;
    }
    if (c.messageBody !== undefined) {
      if (typeof c.messageBody !== 'string' || c.messageBody.length > 1024) return fail('fixedResponseConfig.messageBody must be a string of at most 1024 characters');
      (out.fixedResponse as { messageBody?: string }).messageBody = c.messageBody;
    }
    return ok(out);
  }
  if (a.type === 'redirect') {
    const c = (a.redirectConfig ?? {}) as Record<string, unknown>;
    if (c.statusCode !== 'HTTP_301' && c.statusCode !== 'HTTP_302') return fail(`redirectConfig.statusCode ${JSON.stringify(c.statusCode)} is not HTTP_301 or HTTP_302`);
    const redirect: NonNullable<AlbAction['redirect']> = { statusCode: c.statusCode };
    for (const k of ['protocol', 'port', 'host', 'path', 'query'] as const) {
      const v = c[k];
      if (v === undefined) continue;
      if (typeof v !== 'string') return fail(`redirectConfig.${k} must be a string`);
      (redirect as unknown as Record<string, string>)[k] = v;
    }
    return ok({ type: 'redirect', redirect });
  }
  if (a.type === 'forward') return fail('forward actions in annotations are not supported yet; use the Ingress backend');
  return fail(`type ${JSON.stringify(a.type)} is not fixed-response or redirect`);
}
