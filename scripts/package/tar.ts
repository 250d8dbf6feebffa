// A deterministic tar writer (POSIX ustar) and gzip, for image layers whose digest depends on their
// content only: entries sorted by path, owner 0:0, mtime fixed, no user/group names, no extended
// headers; gzip with mtime 0 and Node's own zlib at a fixed level.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export type TarEntry =
  | { path: string; type: 'file'; mode: number; data: Buffer }
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'symlink'; target: string };

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** Splits a path into ustar's prefix (≤155) and name (≤100) fields. */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function header(e: TarEntry, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const path = e.type === 'dir' ? `${e.path.replace(/\/$/, '')}/` : e.path;
  const { name, prefix } = splitName(path);
  h.write(name, 0, 100);
  h.write(octal(e.type === 'symlink' ? 0o777 : e.mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(e.type === 'file' ? e.data.length : 0, 12), 124);
  h.write(octal(mtime, 12), 136);
  h.write('        ', 148);
  h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156);
  if (e.type === 'symlink') h.write(e.target, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** Every parent directory of every entry gets its own entry (0755), as unpackers expect. */
function withParents(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) {
    const p = e.path.replace(/^\/+/, '').replace(/\/$/, '');
    if (byPath.has(p)) throw new Error(`tar: duplicate entry ${p}`);
    byPath.set(p, { ...e, path: p } as TarEntry);
  }
  for (const p of [...byPath.keys()]) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!byPath.has(d)) byPath.set(d, { path: d, type: 'dir', mode: 0o755 });
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function tar(entries: readonly TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const e of withParents(entries)) {
    parts.push(header(e, mtime));
    if (e.type === 'file') {
      parts.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** gzip with a fixed header (Node writes mtime 0 and OS 3) and level: same bytes in, same bytes out. */
export function gzip(data: Buffer): Buffer {
  return gzipSync(data, { level: 6 });
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
