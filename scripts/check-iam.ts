import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run check:iam` (the last step of `npm test`): holds every operator's generated IAM policy against
 * the AWS calls its IAM user made during the integration suite (`reports/aws-calls.json`, from moto's
 * recorder): no call outside the policy, and every action in the policy either called or listed with a
 * reason in the operator README's "IAM actions the integration tests do not call" table.
 */
const root = join(import.meta.dirname, '..');
const reportFile = join(root, 'reports', 'aws-calls.json');
// STS answers GetCallerIdentity to any valid credentials; no policy can deny it.
const ALWAYS_ALLOWED = new Set(['sts:GetCallerIdentity']);
const strict = process.argv.includes('--strict');

const matches = (pattern: string, action: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action);

/** Actions named in the README table under the heading "IAM actions the integration tests do not call". */
export function readmeExceptions(readme: string): Map<string, string> {
  const out = new Map<string, string>();
  const section = readme.split(/^#+ /m).find((s) => s.startsWith('IAM actions the integration tests do not call'));
  for (const m of (section ?? '').matchAll(/^\|\s*`([\w-]+:[\w*]+)`\s*\|\s*(.+?)\s*\|$/gm)) if (m[1] && m[2]) out.set(m[1], m[2]);
  return out;
}

export function checkOperator(policyActions: string[], called: Record<string, number>, exceptions: Map<string, string>): { problems: string[]; unused: string[] } {
  const problems: string[] = [];
  const unused: string[] = [];
  for (const action of Object.keys(called).sort()) {
    if (!ALWAYS_ALLOWED.has(action) && !policyActions.some((p) => matches(p, action))) problems.push(`called ${action} (${called[action]}×), which its policy does not allow`);
  }
  for (const p of policyActions) {
    if (Object.keys(called).some((a) => matches(p, a)) || exceptions.has(p) || ALWAYS_ALLOWED.has(p)) continue;
    unused.push(`${p} is in its policy but no integration test called it and the README does not say why`);
  }
  return { problems, unused };
}

if (import.meta.main) {
  if (!existsSync(reportFile)) {
    console.error(`${reportFile} is missing: run the integration suite first (npm run test:integration)`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, Record<string, number>>;
  let failed = false;
  for (const pkg of readdirSync(join(root, 'packages')).filter((d) => d.endsWith('-operator')).sort()) {
    const policyFile = join(root, 'packages', pkg, 'generated', 'iam-policy.json');
    if (!existsSync(policyFile)) continue;
    const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as { Statement: { Action: string | string[] }[] };
    const actions = [...new Set(policy.Statement.flatMap((s) => [s.Action].flat()))].sort();
    const called = report[pkg];
    if (!called) {
      console.error(`${pkg}: no AWS calls recorded for its IAM user (did its integration tests run?)`);
      failed = true;
      continue;
    }
    const { problems, unused } = checkOperator(actions, called, readmeExceptions(readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8')));
    for (const p of problems) console.error(`${pkg}: ${p}`);
    // An action the suite never called is reported; it fails the check with --strict (once every README
    // lists its uncalled actions with a reason).
    for (const u of unused) console.error(`${pkg}: ${strict ? '' : 'warning: '}${u}`);
    failed ||= problems.length > 0 || (strict && unused.length > 0);
    if (!problems.length) console.log(`${pkg}: ${actions.length} actions in its policy, ${Object.keys(called).length} called, none outside it`);
  }
  process.exit(failed ? 1 : 0);
}
