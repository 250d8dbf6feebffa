// The permissions contract every operator holds in its unit tests, written once. A subpath of its own
// (`@kube-iaas/core/permissions/suite`), like `simulate`: it loads vitest and the policy simulator, so
// nothing an operator runs may import it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { permissionGaps, type CheckableOperator } from './check.ts';
import { iamPolicyFile, rbacFile } from './text.ts';
import { simulateOperatorPolicy, simulationProblems } from './simulate.ts';
import type { OperatorPermissions } from './types.ts';

export interface PermissionsSuite<O extends CheckableOperator> {
  /** A fresh operator built with `offlineOperatorOptions()`. */
  make: () => O;
  /** Its `init()` (protected, so the caller reaches it). */
  init: (op: O) => Promise<void>;
  permissions: OperatorPermissions;
  /** The kind of its custom resource, for the policy simulator's requests. */
  kind: string;
  /** The package's `generated/` directory. */
  generatedDir: URL;
}

/**
 * The operator's RBAC and IAM policy come from one declaration (src/permissions.ts). This holds the
 * declaration against what the operator really sets up, and the checked-in generated/ files against it.
 */
export function permissionsSuite<O extends CheckableOperator>(s: PermissionsSuite<O>): void {
  const { permissions } = s;
  const generated = (f: string) => readFileSync(new URL(f, s.generatedDir), 'utf8');
  describe('permissions', () => {
    it('every informer the operator registers and every request its setup makes is allowed by its ClusterRole', async () => {
      const op = s.make();
      expect(await permissionGaps(op, () => s.init(op), permissions)).toEqual([]);
    });

    it('a watch without its rule is caught (the check is not vacuous)', async () => {
      const op = s.make();
      await permissionGaps(op, () => s.init(op), permissions);
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
      expect(permissions.iam.filter((st) => !st.why).map((st) => st.Sid)).toEqual([]);
    });

    it("its IAM policy under a policy simulator: our own resources allowed; untagged or another cluster's denied wherever it scopes by tag", async () => {
      const calls = await simulateOperatorPolicy(permissions, s.kind);
      expect(simulationProblems(calls)).toEqual([]);
      expect(calls.filter((c) => c.expected === 'Denied').length).toBeGreaterThan(0);
      // Not vacuous: without its conditions the same policy lets another cluster's resources through.
      const unscoped = { ...permissions, iam: permissions.iam.map(({ Condition: _c, ...st }) => st) };
      expect(simulationProblems(await simulateOperatorPolicy(unscoped, s.kind))).not.toEqual([]);
    }, 60_000);
  });
}
