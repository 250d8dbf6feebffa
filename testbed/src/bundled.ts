import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

/**
 * With KUBE_IAAS_OPERATOR_BUNDLE=1 an operator's `packages/<op>/src/main.ts` runs as the bundle that
 * ships in its image (`packages/<op>/dist/bundle/operator.mjs`, built by `npm run package`), so a test
 * exercises what is released. Returns the node arguments for the entry point.
 */
export function operatorEntry(main: string): string[] {
  if (process.env.KUBE_IAAS_OPERATOR_BUNDLE !== '1') return [main];
  const m = /packages[\\/]([^\\/]+)[\\/]src[\\/]main\.ts$/.exec(main);
  if (!m) return [main];
  const bundle = join(repoRoot(), 'packages', m[1]!, 'dist', 'bundle', 'operator.mjs');
  if (!existsSync(bundle)) throw new Error(`KUBE_IAAS_OPERATOR_BUNDLE=1 but ${bundle} is missing: run npm run package (or node scripts/package/main.ts ${m[1]} --skip-image)`);
  return ['--enable-source-maps', bundle];
}
