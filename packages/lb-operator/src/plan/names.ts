// Deterministic AWS names. A name is a second fence against duplicates after a crash (the first is the
// owner-tag lookup): the same CR always asks for the same names, and moto does not refuse duplicate
// load balancer names, so the operator must find before it creates.
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

function hash(parts: ReadonlyArray<string | number>, n: number): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, n);
}

/** `k8s-<ns≤8>-<name≤8>-<hash10>` (at most 32 characters, like the AWS Load Balancer Controller's names). */
function shortName(namespace: string, name: string, h: string): string {
  const out = ['k8s', clean(namespace, 8), clean(name, 8), h].filter(Boolean).join('-');
  return out.slice(0, MAX);
}

export interface NameInputs {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  scheme: string;
}

/**
 * The generated load balancer name. It includes the scheme, so a scheme change creates the new NLB
 * beside the old one (make before break) instead of colliding with its name.
 */
export function loadBalancerName(i: NameInputs): string {
  return shortName(i.namespace, i.name, hash([i.cluster, i.namespace, i.name, i.uid, i.scheme], 10));
}

/**
 * The target group name for one listener. Everything AWS cannot change on a target group (protocol,
 * port) is part of the name, as is the scheme (a target group serves one NLB), so a change makes a
 * new group and the old one is deleted once no listener uses it.
 */
export function targetGroupName(i: NameInputs & { listenerPort: number; protocol: string; targetPort: number }): string {
  return shortName(i.namespace, i.name, hash([i.cluster, i.namespace, i.name, i.uid, i.scheme, i.listenerPort, i.protocol, i.targetPort], 10));
}
