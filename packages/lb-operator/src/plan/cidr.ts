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
