// IPv4 CIDR arithmetic for deciding whether one security-group rule already covers another.
import { isIPv4 } from 'node:net';

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

function parse(cidr: string): { base: number; bits: number } | undefined {
  const [ip, b] = cidr.split('/');
  if (!ip || b === undefined || !isIPv4(ip)) return undefined;
  const bits = Number(b);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (ipv4ToInt(ip) & mask) >>> 0, bits };
}

/** True when every address of `inner` is in `outer` (IPv4 only; false for anything else). */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parse(outer);
  const i = parse(inner);
  if (!o || !i || i.bits < o.bits) return false;
  const mask = o.bits === 0 ? 0 : (~0 << (32 - o.bits)) >>> 0;
  return ((i.base & mask) >>> 0) === o.base;
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/**
 * The fewest CIDR blocks covering exactly the same addresses: duplicates and blocks inside others go,
 * and two halves of one block become that block (10.0.0.0/25 + 10.0.0.128/25 → 10.0.0.0/24). Every
 * source range becomes a security-group rule, so merging is what keeps a tenant's rule count honest:
 * the per-Service cap counts blocks after this. IPv6 blocks are only de-duplicated; anything that is
 * not a CIDR is kept as written (the CRD's schema refuses those before they get here). Sorted output.
 */
export function mergeCidrs(cidrs: readonly string[]): string[] {
  const v4: Array<{ base: number; bits: number }> = [];
  const other = new Set<string>();
  for (const c of cidrs) {
    const p = parse(c.trim());
    if (p) v4.push(p);
    else other.add(c.trim().toLowerCase());
  }
  // Drop blocks contained in a wider one: sort by base, then widest first, and keep what the last
  // kept block does not cover.
  v4.sort((a, b) => a.base - b.base || a.bits - b.bits);
  let kept: Array<{ base: number; bits: number }> = [];
  for (const b of v4) {
    const last = kept[kept.length - 1];
    if (last && covers(last, b)) continue;
    kept.push(b);
  }
  // Join sibling halves until nothing changes (each join may make a new pair of siblings).
  for (let changed = true; changed; ) {
    changed = false;
    const next: typeof kept = [];
    for (const b of kept) {
      const last = next[next.length - 1];
      if (last && last.bits === b.bits && b.bits > 0 && isLowerSibling(last, b)) {
        next[next.length - 1] = { base: last.base, bits: b.bits - 1 };
        changed = true;
        // The widened block may now cover, or pair with, the one before it.
        while (next.length >= 2) {
          const top = next[next.length - 1]!;
          const prev = next[next.length - 2]!;
          if (covers(prev, top)) next.pop();
          else if (prev.bits === top.bits && top.bits > 0 && isLowerSibling(prev, top)) next.splice(next.length - 2, 2, { base: prev.base, bits: top.bits - 1 });
          else break;
        }
      } else next.push(b);
    }
    kept = next;
  }
  return [...kept.map((b) => `${intToIpv4(b.base)}/${b.bits}`), ...[...other].sort()];
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

function covers(outer: { base: number; bits: number }, inner: { base: number; bits: number }): boolean {
  return inner.bits >= outer.bits && ((inner.base & maskOf(outer.bits)) >>> 0) === outer.base;
}

/** `a` and `b` are the two halves of one block of prefix `bits - 1`, `a` the lower one. */
function isLowerSibling(a: { base: number; bits: number }, b: { base: number; bits: number }): boolean {
  const parentMask = maskOf(a.bits - 1);
  return ((a.base & parentMask) >>> 0) === a.base && ((b.base & parentMask) >>> 0) === a.base && b.base !== a.base;
}
