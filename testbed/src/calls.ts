import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { motoRecording } from './control-plane.ts';
import { readIdentities } from './identities.ts';

/** Per component (`lb-operator`), how often each IAM action (`ec2:CreateVolume`) was called with its keys. */
export type CallReport = Record<string, Record<string, number>>;

interface Recorded {
  headers?: Record<string, string>;
  url?: string;
  body?: string;
  body_encoded?: boolean;
}

/** `ec2:DescribeVolumes` from one recorded query-protocol request (service from the credential scope, action from the form). */
export function actionOf(r: Recorded): { accessKey: string; action: string } | undefined {
  const auth = r.headers?.Authorization ?? r.headers?.authorization ?? '';
  const scope = /Credential=([^/]+)\/\d+\/[^/]+\/([^/]+)\//.exec(auth);
  if (!scope?.[1] || !scope[2]) return undefined;
  const body = r.body_encoded ? Buffer.from(r.body ?? '', 'base64').toString() : (r.body ?? '');
  const op = new URLSearchParams(body).get('Action') ?? new URL(r.url ?? '/', 'http://x').searchParams.get('Action');
  const target = r.headers?.['X-Amz-Target'] ?? r.headers?.['x-amz-target'];
  const name = op ?? target?.split('.').pop();
  return name ? { accessKey: scope[1], action: `${scope[2]}:${name}` } : undefined;
}

/** Summarises moto's recording by component, through the access keys of `identities.json`. */
export function callReport(dir: string): CallReport {
  const ids = readIdentities(dir);
  const file = motoRecording(dir);
  const out: CallReport = {};
  if (!ids || !existsSync(file)) return out;
  const who = new Map(Object.values(ids.components).flatMap((c) => (c.aws ? [[c.aws.accessKeyId, c.name] as const] : [])));
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    let r: Recorded;
    try {
      r = JSON.parse(line) as Recorded;
    } catch {
      continue;
    }
    const a = actionOf(r);
    const name = a && who.get(a.accessKey);
    if (!a || !name) continue;
    const calls = (out[name] ??= {});
    calls[a.action] = (calls[a.action] ?? 0) + 1;
  }
  return out;
}

/** Merges this testbed's calls into `file` (a run may span testbeds), so `npm run check:iam` sees them all. */
export function writeCallReport(dir: string, file: string): CallReport {
  const merged: CallReport = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CallReport) : {};
  for (const [name, calls] of Object.entries(callReport(dir))) {
    const m = (merged[name] ??= {});
    for (const [action, n] of Object.entries(calls)) m[action] = Math.max(m[action] ?? 0, n);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}
