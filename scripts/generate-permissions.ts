import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { iamPolicyFile, permissionsMarkdown, rbacFile, withPermissionsSection, type OperatorPermissions } from '../packages/core/src/permissions/index.ts';

/**
 * `npm run generate` (also `-- --check`): renders every operator's declared permissions
 * (`src/permissions.ts`, and `src/node/permissions.ts` for a node half) into `generated/rbac.yaml` and
 * `generated/iam-policy.json`, and the README's section between `<!-- permissions:begin -->` and
 * `<!-- permissions:end -->`. `--check` fails when a checked-in file differs from what would be written.
 */
const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
const stale: string[] = [];

function outputs(perms: OperatorPermissions, src: string, prefix: string): Record<string, string> {
  const files: Record<string, string> = { [`${prefix}rbac.yaml`]: rbacFile(perms, src) };
  if (perms.iam.length) files[`${prefix}iam-policy.json`] = iamPolicyFile(perms);
  return files;
}

for (const pkg of readdirSync(join(root, 'packages')).filter((d) => d.endsWith('-operator')).sort()) {
  for (const [src, prefix] of [['src/permissions.ts', ''], ['src/node/permissions.ts', 'node-']] as const) {
    const file = join(root, 'packages', pkg, src);
    if (!existsSync(file)) continue;
    const { permissions } = (await import(pathToFileURL(file).href)) as { permissions: OperatorPermissions };
    const dir = join(root, 'packages', pkg, 'generated');
    mkdirSync(dir, { recursive: true });
    const readme = join(root, 'packages', pkg, 'README.md');
    const readmeText = prefix === '' && existsSync(readme) ? withPermissionsSection(readFileSync(readme, 'utf8'), permissionsMarkdown(permissions)) : undefined;
    const files: Record<string, string> = { ...outputs(permissions, src, prefix), ...(readmeText ? { '../README.md': readmeText } : {}) };
    for (const [name, text] of Object.entries(files)) {
      const out = join(dir, name);
      const old = existsSync(out) ? readFileSync(out, 'utf8') : undefined;
      if (old === text) continue;
      if (check) stale.push(out);
      else {
        writeFileSync(out, text);
        console.log(`wrote ${out.slice(root.length + 1)}`);
      }
    }
  }
}
if (stale.length) {
  console.error(`out of date (run npm run generate):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
