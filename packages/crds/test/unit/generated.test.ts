// Staleness check: the committed generated files must be exactly what the sources produce now.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIRS, renderAll } from '../../scripts/render.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const HOW = 'the sources in packages/crds/src/sources changed without regenerating: run `npm run generate -w @kube-iaas/crds` and commit the result';

function firstDifference(want: string, got: string | undefined): string {
  if (got === undefined) return 'file is missing';
  const w = want.split('\n');
  const g = got.split('\n');
  for (let i = 0; i < Math.max(w.length, g.length); i++) {
    if (w[i] !== g[i]) return `first difference at line ${i + 1}:\n  committed: ${g[i] ?? '<end of file>'}\n  generated: ${w[i] ?? '<end of file>'}`;
  }
  return 'identical';
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

describe('generated files', () => {
  const files = renderAll();

  it.each([...files.keys()])('%s is up to date', (rel) => {
    const want = files.get(rel) as string;
    const got = read(join(ROOT, rel));
    if (got !== want) expect.fail(`packages/crds/${rel} is stale — ${HOW}.\n${firstDifference(want, got)}`);
  });

  it.each(GENERATED_DIRS)('%s holds nothing no source produces', (dir) => {
    const extra = readdirSync(join(ROOT, dir))
      .map((f) => `${dir}/${f}`)
      .filter((p) => !files.has(p));
    if (extra.length) expect.fail(`leftover generated files ${extra.join(', ')} — ${HOW}.`);
  });

  it('is deterministic', () => {
    expect(renderAll()).toEqual(files);
  });
});
