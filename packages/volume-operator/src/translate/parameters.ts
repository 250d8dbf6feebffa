// StorageClass parameters of the ebs.kube-iaas.dev provisioner, with the EBS CSI driver's names so
// manifests carry over. Pure: parsing and the per-type limits, with errors that name the parameter.
import { VOLUME_TYPES, VOLUME_TYPE_LIMITS, RESERVED_TAG_KEYS, RESERVED_TAG_PREFIXES } from '@kube-iaas/crds';
import type { VolumeType } from '@kube-iaas/crds';

export type FsType = 'ext4' | 'xfs';
export const FS_TYPES: readonly FsType[] = ['ext4', 'xfs'];
export const DEFAULT_VOLUME_TYPE: VolumeType = 'gp3';
export const DEFAULT_FS_TYPE: FsType = 'ext4';

/** gp3 throughput range (MiB/s) and the most per provisioned IOPS. */
export const GP3_THROUGHPUT = { min: 125, max: 1000, perIops: 0.25 } as const;
/** gp3's baseline, included at every size. */
export const GP3_BASELINE_IOPS = 3000;

/** A problem with one StorageClass parameter (or the claim), phrased for an Event. */
export interface ParameterError {
  /** The parameter's name as written in the StorageClass (or `resources.requests.storage`, `accessModes`, ...). */
  parameter: string;
  message: string;
}

export interface VolumeParameters {
  volumeType: VolumeType;
  /** Absolute provisioned IOPS (`iops`). */
  iops?: number;
  /** IOPS per GiB (`iopsPerGB`), multiplied out by `resolveVolumeSettings`. */
  iopsPerGB?: number;
  /** `allowAutoIOPSPerGBIncrease`: raise iopsPerGB × size to the type's minimum instead of failing. */
  allowAutoIopsPerGbIncrease: boolean;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  fsType: FsType;
  /** Extra tags from `tagSpecification_N`; values may hold {{ .PVCName }}, {{ .PVCNamespace }}, {{ .PVName }}. */
  tags: Record<string, string>;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: ParameterError[] };

/**
 * Keys are matched case-insensitively, as the EBS CSI driver does. Node-side format options are
 * accepted for the node plugin (a later issue) and passed through untouched.
 */
const KNOWN = {
  type: 'type',
  iops: 'iops',
  iopspergb: 'iopsPerGB',
  allowautoiopspergbincrease: 'allowAutoIOPSPerGBIncrease',
  throughput: 'throughput',
  encrypted: 'encrypted',
  kmskeyid: 'kmsKeyId',
  'csi.storage.k8s.io/fstype': 'csi.storage.k8s.io/fstype',
  fstype: 'fsType',
} as const;
const NODE_SIDE = new Set(['blocksize', 'inodesize', 'bytesperinode', 'numberofinodes', 'ext4bigalloc', 'ext4clustersize']);
const TAG_SPEC = /^tagspecification_(\d+)$/;
const TAG_TEMPLATE = /\{\{\s*\.(PVCName|PVCNamespace|PVName)\s*\}\}/g;

function integer(raw: string): number | undefined {
  const t = raw.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** Parses a StorageClass's `parameters`; collects every problem instead of stopping at the first. */
export function parseParameters(params: Readonly<Record<string, string>> | undefined): ParseResult<VolumeParameters> {
  const errors: ParameterError[] = [];
  const out: VolumeParameters = { volumeType: DEFAULT_VOLUME_TYPE, allowAutoIopsPerGbIncrease: false, encrypted: false, fsType: DEFAULT_FS_TYPE, tags: {} };
  let fsSeen: string | undefined;
  const tagSources = new Map<string, string>();
  for (const [key, raw] of Object.entries(params ?? {})) {
    const lower = key.toLowerCase();
    const value = String(raw);
    const err = (message: string) => errors.push({ parameter: key, message: `${key}: ${message}` });
    const tag = TAG_SPEC.exec(lower);
    if (tag) {
      const eq = value.indexOf('=');
      if (eq <= 0) {
        err(`${JSON.stringify(value)} is not key=value`);
        continue;
      }
      const k = value.slice(0, eq).trim();
      const v = value.slice(eq + 1).trim();
      if (k.length > 128 || v.length > 256) err('tag keys may have at most 128 characters and values at most 256');
      else if ((RESERVED_TAG_KEYS as readonly string[]).includes(k) || RESERVED_TAG_PREFIXES.some((p) => k.startsWith(p)) || k.toLowerCase().startsWith('aws:')) {
        err(`tag key ${k} is reserved (set by kube-iaas or AWS)`);
      } else if (tagSources.has(k)) err(`tag key ${k} is also set by ${tagSources.get(k)}`);
      else {
        tagSources.set(k, key);
        out.tags[k] = v;
      }
      continue;
    }
    if (NODE_SIDE.has(lower)) continue;
    switch (lower) {
      case 'type': {
        const t = value.trim().toLowerCase();
        if ((VOLUME_TYPES as readonly string[]).includes(t)) out.volumeType = t as VolumeType;
        else err(`unknown volume type ${JSON.stringify(value)}; must be one of ${VOLUME_TYPES.join(', ')}`);
        break;
      }
      case 'iops':
      case 'throughput': {
        const n = integer(value);
        if (n === undefined || n <= 0) err(`${JSON.stringify(value)} is not a positive whole number`);
        else if (lower === 'iops') out.iops = n;
        else out.throughput = n;
        break;
      }
      case 'iopspergb': {
        const n = Number(value.trim());
        if (value.trim() === '' || !Number.isFinite(n) || n <= 0) err(`${JSON.stringify(value)} is not a positive number`);
        else out.iopsPerGB = n;
        break;
      }
      case 'allowautoiopspergbincrease':
      case 'encrypted': {
        const t = value.trim().toLowerCase();
        if (t !== 'true' && t !== 'false') err(`${JSON.stringify(value)} is not true or false`);
        else if (lower === 'encrypted') out.encrypted = t === 'true';
        else out.allowAutoIopsPerGbIncrease = t === 'true';
        break;
      }
      case 'kmskeyid':
        if (value.trim() === '') err('must not be empty');
        else out.kmsKeyId = value.trim();
        break;
      case 'csi.storage.k8s.io/fstype':
      case 'fstype': {
        const t = value.trim().toLowerCase();
        if (fsSeen !== undefined && fsSeen !== t) err(`conflicts with another fstype parameter (${fsSeen})`);
        else if ((FS_TYPES as readonly string[]).includes(t)) {
          out.fsType = t as FsType;
          fsSeen = t;
        } else err(`unsupported filesystem ${JSON.stringify(value)}; must be one of ${FS_TYPES.join(', ')}`);
        break;
      }
      default:
        err(`unknown parameter; the ${'ebs.kube-iaas.dev'} provisioner accepts ${Object.values(KNOWN).join(', ')}, tagSpecification_N and the node-side format options`);
    }
  }
  if (out.iops !== undefined && out.iopsPerGB !== undefined) {
    errors.push({ parameter: 'iopsPerGB', message: 'iops and iopsPerGB are mutually exclusive: set one of them' });
  }
  const iopsLimits = VOLUME_TYPE_LIMITS[out.volumeType].iops;
  if (!iopsLimits && (out.iops !== undefined || out.iopsPerGB !== undefined)) {
    const p = out.iops !== undefined ? 'iops' : 'iopsPerGB';
    errors.push({ parameter: p, message: `${p}: provisioned IOPS are only allowed for volume types ${iopsTypes().join(', ')}, not ${out.volumeType}` });
  }
  if (iopsLimits && out.volumeType !== 'gp3' && out.iops === undefined && out.iopsPerGB === undefined) {
    errors.push({ parameter: 'iops', message: `iops: volume type ${out.volumeType} needs iops or iopsPerGB (${iopsLimits.min}-${iopsLimits.max}, at most ${iopsLimits.perGiB} per GiB)` });
  }
  if (out.throughput !== undefined) {
    if (out.volumeType !== 'gp3') errors.push({ parameter: 'throughput', message: `throughput: only gp3 volumes take a throughput, not ${out.volumeType}` });
    else if (out.throughput < GP3_THROUGHPUT.min || out.throughput > GP3_THROUGHPUT.max) {
      errors.push({ parameter: 'throughput', message: `throughput: ${out.throughput} MiB/s is outside gp3's ${GP3_THROUGHPUT.min}-${GP3_THROUGHPUT.max} MiB/s` });
    }
  }
  if (out.kmsKeyId !== undefined && !out.encrypted) {
    errors.push({ parameter: 'kmsKeyId', message: 'kmsKeyId: needs encrypted: "true" (an unencrypted volume has no key)' });
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: out };
}

function iopsTypes(): VolumeType[] {
  return VOLUME_TYPES.filter((t) => VOLUME_TYPE_LIMITS[t].iops);
}

/** What the volume will be, once the claim's size is known. */
export interface VolumeSettings {
  volumeType: VolumeType;
  sizeGiB: number;
  iops?: number;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  fsType: FsType;
}

/**
 * Applies the per-type limits to parameters and a size: the size range, IOPS range and IOPS per
 * GiB, iopsPerGB multiplied out (capped at the type's maximum, as the EBS CSI driver does; raised to
 * its minimum only with allowAutoIOPSPerGBIncrease), gp3 throughput per IOPS. `sizeParameter` names
 * the size in messages (`resources.requests.storage` for a claim).
 */
export function resolveVolumeSettings(p: VolumeParameters, sizeGiB: number, sizeParameter = 'resources.requests.storage'): ParseResult<VolumeSettings> {
  const errors: ParameterError[] = [];
  const limits = VOLUME_TYPE_LIMITS[p.volumeType];
  if (sizeGiB < limits.minGiB || sizeGiB > limits.maxGiB) {
    errors.push({ parameter: sizeParameter, message: `${sizeParameter}: ${sizeGiB} GiB is outside the ${limits.minGiB}-${limits.maxGiB} GiB range of volume type ${p.volumeType}` });
  }
  let iops = p.iops;
  let iopsParam = 'iops';
  if (p.iopsPerGB !== undefined && limits.iops) {
    iopsParam = 'iopsPerGB';
    iops = Math.floor(p.iopsPerGB * sizeGiB);
    if (iops > limits.iops.max) iops = limits.iops.max;
    if (iops < limits.iops.min) {
      if (p.allowAutoIopsPerGbIncrease) iops = limits.iops.min;
      else {
        errors.push({
          parameter: 'iopsPerGB',
          message: `iopsPerGB: ${p.iopsPerGB} × ${sizeGiB} GiB = ${iops} IOPS is below the minimum of ${limits.iops.min} for volume type ${p.volumeType} (set allowAutoIOPSPerGBIncrease: "true" to raise it)`,
        });
      }
    }
    if (p.volumeType === 'gp3' && iops <= GP3_BASELINE_IOPS) iops = undefined; // the baseline is free
  }
  if (iops !== undefined && limits.iops && iopsParam === 'iops') {
    const { min, max, perGiB } = limits.iops;
    if (iops < min || iops > max) errors.push({ parameter: 'iops', message: `iops: ${iops} is outside the ${min}-${max} range of volume type ${p.volumeType}` });
    const floor = p.volumeType === 'gp3' ? GP3_BASELINE_IOPS : 0;
    if (iops > floor && iops > sizeGiB * perGiB) {
      errors.push({
        parameter: 'iops',
        message: `iops: ${iops} is more than ${perGiB} IOPS per GiB allows for a ${sizeGiB} GiB ${p.volumeType} volume (at most ${Math.max(floor, sizeGiB * perGiB)})`,
      });
    }
  }
  if (p.throughput !== undefined && p.volumeType === 'gp3') {
    const effective = iops ?? GP3_BASELINE_IOPS;
    const most = Math.floor(effective * GP3_THROUGHPUT.perIops);
    if (p.throughput > most) {
      errors.push({ parameter: 'throughput', message: `throughput: ${p.throughput} MiB/s is more than ${GP3_THROUGHPUT.perIops} MiB/s per IOPS allows with ${effective} IOPS (at most ${most})` });
    }
  }
  if (errors.length) return { ok: false, errors };
  const out: VolumeSettings = { volumeType: p.volumeType, sizeGiB, encrypted: p.encrypted, fsType: p.fsType };
  if (iops !== undefined) out.iops = iops;
  if (p.throughput !== undefined) out.throughput = p.throughput;
  if (p.kmsKeyId !== undefined) out.kmsKeyId = p.kmsKeyId;
  return { ok: true, value: out };
}

/** Fills {{ .PVCName }}, {{ .PVCNamespace }} and {{ .PVName }} in tag values (the EBS CSI driver's templates). */
export function renderTags(tags: Readonly<Record<string, string>>, claim: { pvcName: string; pvcNamespace: string; pvName: string }): Record<string, string> {
  const values: Record<string, string> = { PVCName: claim.pvcName, PVCNamespace: claim.pvcNamespace, PVName: claim.pvName };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) out[k] = v.replace(TAG_TEMPLATE, (_m, name: string) => values[name] ?? '');
  return out;
}

const TAG_VALUE_MAX = 256;

/**
 * Tag values after the templates are filled in for one claim. The class's own check (at most 256
 * characters) sees the template, not the claim: `{{ .PVCNamespace }}/{{ .PVCName }}` is 317 characters
 * for a 253-character name in a 63-character namespace, which EC2 would refuse at CreateVolume. Each
 * error names the `tagSpecification_N` parameter the tag came from.
 */
export function checkRenderedTags(parameters: Readonly<Record<string, string>> | undefined, rendered: Readonly<Record<string, string>>): ParameterError[] {
  const errors: ParameterError[] = [];
  for (const [k, v] of Object.entries(rendered)) {
    if (v.length <= TAG_VALUE_MAX) continue;
    const source = Object.keys(parameters ?? {}).find((p) => TAG_SPEC.test(p.toLowerCase()) && String(parameters?.[p]).split('=')[0]?.trim() === k) ?? 'tagSpecification_N';
    errors.push({ parameter: source, message: `${source}: tag ${k} would be ${v.length} characters for this claim once its names are filled in; AWS allows at most ${TAG_VALUE_MAX} per tag value` });
  }
  return errors;
}
