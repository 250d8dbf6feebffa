import { readFile } from 'node:fs/promises';

export interface MountEntry {
  id: number;
  parent: number;
  majorMinor: string;
  /** Path inside the mounted filesystem that is mounted here (`/` unless a bind mount of a subtree). */
  root: string;
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
}

/** `\040` and friends: mountinfo escapes space, tab, newline and backslash in octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo (proc(5)); optional fields end at the lone `-`. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) continue;
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      majorMinor: f[2] ?? '',
      root: unescape(f[3] ?? ''),
      mountPoint: unescape(f[4] ?? ''),
      options: (f[5] ?? '').split(','),
      fsType: f[sep + 1] ?? '',
      source: unescape(f[sep + 2] ?? ''),
    });
  }
  return out;
}

/** The mount visible at `path` (the last one mounted there wins), if any. */
export function mountAt(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const e of entries) if (e.mountPoint === path) found = e;
  return found;
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

export function isReadOnly(e: MountEntry): boolean {
  return e.options.includes('ro');
}
