// Deterministic AWS names: the same CR always asks for the same names, a second fence against duplicates
// after a crash (the first is the owner-tag lookup before every create).
import { createHash } from 'node:crypto';

const MAX = 32;

function clean(s: string, n: number): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, n)
    .replace(/-$/, '');
}

function hash(parts: ReadonlyArray<string | number>): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 10);
}

function shortName(a: string, b: string, h: string): string {
  return ['k8s', clean(a, 8), clean(b, 8), h].filter(Boolean).join('-').slice(0, MAX);
}

export interface NameInputs {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  scheme: string;
}

/** `k8s-<ns>-<name>-<hash>`; the scheme is in the hash, so a scheme change makes a new ALB beside the old one. */
export function loadBalancerName(i: NameInputs): string {
  return shortName(i.namespace, i.name, hash([i.cluster, i.namespace, i.name, i.uid, i.scheme]));
}

/**
 * One target group per spec entry. What AWS cannot change (protocol, port) and the scheme (a target group
 * serves one load balancer) are in the hash, so a change makes a new group.
 */
export function targetGroupName(i: NameInputs & { key: string; protocol: string; port: number }): string {
  return shortName(i.namespace, i.key, hash([i.cluster, i.namespace, i.name, i.uid, i.scheme, i.key, i.protocol, i.port]));
}

/** Name of the security group we create for the ALB (255 characters allowed; no `sg-` prefix). */
export function securityGroupName(i: NameInputs): string {
  return `k8s-alb-${clean(i.namespace, 40)}-${clean(i.name, 60)}-${hash([i.cluster, i.namespace, i.name, i.uid])}`;
}
