// The operator's RBAC and IAM policy come from one declaration (src/permissions.ts). This holds the
// declaration against what the operator really sets up, and the checked-in generated/ files against it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iamPolicyFile, offlineOperatorOptions, permissionGaps, rbacFile } from '@kube-iaas/core';
import { simulateOperatorPolicy, simulationProblems } from '@kube-iaas/core/permissions/simulate';
import { VolumeOperator } from '../../src/operator.ts';
import { permissions } from '../../src/permissions.ts';

const generated = (f: string) => readFileSync(new URL(`../../generated/${f}`, import.meta.url), 'utf8');

describe('permissions', () => {
  it('every informer the operator registers and every request its setup makes is allowed by its ClusterRole', async () => {
    const op = new VolumeOperator(offlineOperatorOptions());
    expect(await permissionGaps(op, () => op['init'](), permissions)).toEqual([]);
  });

  it('a watch without its rule is caught (the check is not vacuous)', async () => {
    const op = new VolumeOperator(offlineOperatorOptions());
    await permissionGaps(op, () => op['init'](), permissions);
    const first = op.informers[0]!.type;
    const without = { rules: permissions.rules.filter((r) => !r.resources.includes(first.plural)) };
    expect((await permissionGaps(op, async () => undefined, without)).join('\n')).toContain(first.plural);
  });

  it('generated/rbac.yaml and generated/iam-policy.json are what `npm run generate` writes from it', () => {
    expect(generated('rbac.yaml')).toBe(rbacFile(permissions));
    expect(generated('iam-policy.json')).toBe(iamPolicyFile(permissions));
  });

  it('every permission says what it is for', () => {
    expect(permissions.rules.filter((r) => !r.why).map((r) => r.resources.join(','))).toEqual([]);
    expect(permissions.iam.filter((s) => !s.why).map((s) => s.Sid)).toEqual([]);
  });

  it('its IAM policy under a policy simulator: our own resources allowed; untagged or another cluster\'s denied wherever it scopes by tag', async () => {
    const calls = await simulateOperatorPolicy(permissions, 'AwsVolume');
    expect(simulationProblems(calls)).toEqual([]);
    expect(calls.filter((c) => c.expected === 'Denied').length).toBeGreaterThan(0);
    // Not vacuous: without its conditions the same policy lets another cluster's resources through.
    const unscoped = { ...permissions, iam: permissions.iam.map(({ Condition: _c, ...s }) => s) };
    expect(simulationProblems(await simulateOperatorPolicy(unscoped, 'AwsVolume'))).not.toEqual([]);
  }, 60_000);
});
