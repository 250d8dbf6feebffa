// Deterministic ELB names. The same owner always asks for the same names: a second fence against
// duplicates after a crash (the first is the owner-tag lookup before every create), and needed because
// moto does not refuse duplicate load balancer names. Changing anything here renames every existing
// load balancer and target group, so the output is pinned by tests.
import { createHash } from 'node:crypto';

/** ELB load balancer and target group names: 1-32 alphanumerics and hyphens. */
export const ELB_NAME_MAX = 32;

/** Lower-case, hyphens for anything else, no leading/trailing/double hyphens, at most `max` characters. */
export function namePart(s: string, max: number): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, max)
    .replace(/-$/, '');
}

/** First 10 hex characters of the SHA-256 of the parts joined by NUL. */
export function nameHash(parts: ReadonlyArray<string | number>): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 10);
}

/**
 * `k8s-<first≤8>-<second≤8>-<hash of parts>`, at most 32 characters (the AWS Load Balancer Controller's
 * shape, so names read the same in the console). Everything that identifies the resource goes in `parts`.
 */
export function elbName(first: string, second: string, parts: ReadonlyArray<string | number>): string {
  return ['k8s', namePart(first, 8), namePart(second, 8), nameHash(parts)].filter(Boolean).join('-').slice(0, ELB_NAME_MAX);
}

/** What every name of one owner's resources is made from. */
export interface NameInputs {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  scheme: string;
}

/**
 * The generated load balancer name, `k8s-<ns≤8>-<name≤8>-<hash10>`. It includes the scheme, so a scheme
 * change creates the new load balancer beside the old one (make before break) instead of colliding.
 */
export function loadBalancerName(i: NameInputs): string {
  return elbName(i.namespace, i.name, [i.cluster, i.namespace, i.name, i.uid, i.scheme]);
}
