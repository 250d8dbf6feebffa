import { invalidArgument } from './errors.ts';
import { DEFAULT_FS_TYPE, isSupportedFsType, SUPPORTED_FS_TYPES, type FsType } from './probe.ts';

/** The parts of a CSI VolumeCapability the plugin reads (proto-loader objects, camelCase, enums as names). */
export interface VolumeCapability {
  accessType?: 'mount' | 'block' | null;
  mount?: { fsType?: string; mountFlags?: string[] } | null;
  block?: object | null;
  accessMode?: { mode?: string } | null;
}

export type Capability = { kind: 'block'; readOnlyMode: boolean } | { kind: 'mount'; fsType: FsType; mountFlags: string[]; readOnlyMode: boolean };

/**
 * Access modes of a volume attached to one instance. EBS Multi-Attach (several nodes) is not offered
 * by this driver; SINGLE_NODE_SINGLE_WRITER / MULTI_WRITER need a capability we do not claim, so the
 * CO sends SINGLE_NODE_WRITER for ReadWriteOnce and ReadWriteOncePod.
 */
const ACCESS_MODES = new Set(['SINGLE_NODE_WRITER', 'SINGLE_NODE_READER_ONLY']);

export function requireField(value: string | undefined | null, field: string, context: string): string {
  if (!value) throw invalidArgument(`${field} is missing${context ? ` (${context})` : ''}`);
  if (value.includes('\0')) throw invalidArgument(`${field} contains a NUL byte${context ? ` (${context})` : ''}`);
  return value;
}

export function requirePath(value: string | undefined | null, field: string, volumeId: string): string {
  const p = requireField(value, field, `volume ${volumeId}`);
  if (!p.startsWith('/')) throw invalidArgument(`${field} "${p}" of volume ${volumeId} is not an absolute path`);
  return p;
}

export function parseCapability(cap: VolumeCapability | null | undefined, volumeId: string): Capability {
  if (!cap) throw invalidArgument(`volume_capability is missing (volume ${volumeId})`);
  const mode = cap.accessMode?.mode;
  if (!mode || !ACCESS_MODES.has(mode)) {
    throw invalidArgument(`volume ${volumeId}: access mode ${mode ?? '(none)'} is not supported (${[...ACCESS_MODES].join(', ')})`);
  }
  const readOnlyMode = mode === 'SINGLE_NODE_READER_ONLY';
  const kind = cap.accessType ?? (cap.block ? 'block' : cap.mount ? 'mount' : undefined);
  if (kind === 'block') return { kind: 'block', readOnlyMode };
  if (kind !== 'mount') throw invalidArgument(`volume ${volumeId}: volume_capability has neither mount nor block access type`);
  const fsType = (cap.mount?.fsType ?? '').trim().toLowerCase() || DEFAULT_FS_TYPE;
  if (!isSupportedFsType(fsType)) {
    throw invalidArgument(`volume ${volumeId}: fs_type "${fsType}" is not supported (${SUPPORTED_FS_TYPES.join(', ')})`);
  }
  const mountFlags = cap.mount?.mountFlags ?? [];
  for (const f of mountFlags) {
    if (/[\s\0]/.test(f)) throw invalidArgument(`volume ${volumeId}: mount flag "${f}" contains whitespace`);
  }
  return { kind: 'mount', fsType, mountFlags, readOnlyMode };
}
