// Adds up every vitest JSON report of this run (unit reports per package, the integration report)
// and prints the plain closing line CI reads: "N passed, N failed" (", N skipped").
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const reports = [];
for (const base of ['packages', '.']) {
  const dirs = base === '.' ? ['.', 'testbed'] : readdirSync(join(root, base)).map((d) => join(base, d));
  for (const d of dirs) {
    const dir = join(root, d, 'reports');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.json')) reports.push(join(dir, f));
  }
}
let passed = 0, failed = 0, skipped = 0;
for (const file of reports) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`${reports.length} test reports`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
