// Rewrites `import … from '@kube-iaas/core'` (the barrel of every core module) into imports of
// core's subpaths (`@kube-iaas/core/runtime`, `/aws`, `/tags`, `/instance-types`, `/metrics`,
// `/log`, `/quantity`, `/annotation-values`), so a process loads only the parts of core it uses.
// Which subpath exports a name is read from core's sources with the TypeScript compiler, so the
// script stays right as core grows. Idempotent: run it again after merging other branches.
//   node scripts/codemod-core-subpaths.mjs [--check] [dir …]   (default: packages testbed scripts)
// --check lists the files it would change and exits 1 if there are any.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const CORE = join(ROOT, 'packages', 'core');
const BARREL = '@kube-iaas/core';

/** Subpaths in order of preference; a name exported by two goes to the first. */
function subpaths() {
  const exp = JSON.parse(readFileSync(join(CORE, 'package.json'), 'utf8')).exports;
  const order = ['./runtime', './aws', './tags', './instance-types', './metrics', './log', './quantity', './annotation-values'];
  return order.filter((k) => exp[k]).map((k) => ({ spec: `${BARREL}/${k.slice(2)}`, file: join(CORE, exp[k]) }));
}

/** name → subpath, from what each subpath's entry exports (values and types). */
function exportMap() {
  const subs = subpaths();
  const program = ts.createProgram(
    subs.map((s) => s.file),
    { allowImportingTsExtensions: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 },
  );
  const checker = program.getTypeChecker();
  const where = new Map();
  for (const s of subs) {
    const sf = program.getSourceFile(s.file);
    const sym = sf && checker.getSymbolAtLocation(sf);
    if (!sym) throw new Error(`cannot read the exports of ${s.file}`);
    for (const e of checker.getExportsOfModule(sym)) if (!where.has(e.name)) where.set(e.name, s.spec);
  }
  return where;
}

function* tsFiles(dir) {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) yield* tsFiles(p);
    else if (/\.(ts|mts)$/.test(e) && !e.endsWith('.d.ts')) yield p;
  }
}

/** The new text of one file, or undefined when it imports nothing from the barrel. */
export function rewrite(text, where, fileName = 'x.ts') {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const edits = [];
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || st.moduleSpecifier.text !== BARREL) continue;
    const clause = st.importClause;
    const named = clause?.namedBindings;
    if (!clause || clause.name || !named || !ts.isNamedImports(named)) continue; // side-effect, default or namespace import: leave
    const groups = new Map();
    for (const el of named.elements) {
      const name = (el.propertyName ?? el.name).text;
      const spec = where.get(name) ?? BARREL;
      const text = `${!clause.isTypeOnly && el.isTypeOnly ? 'type ' : ''}${el.getText(sf).replace(/^type\s+/, '')}`;
      if (!groups.has(spec)) groups.set(spec, []);
      groups.get(spec).push(text);
    }
    const typeOnly = clause.isTypeOnly ? 'type ' : '';
    const lines = [...groups].map(([spec, names]) => {
      const one = `import ${typeOnly}{ ${names.join(', ')} } from '${spec}';`;
      return one.length <= 140 ? one : `import ${typeOnly}{\n${names.map((n) => `  ${n},`).join('\n')}\n} from '${spec}';`;
    });
    edits.push({ start: st.getStart(sf), end: st.getEnd(), text: lines.join('\n') });
  }
  if (!edits.length) return undefined;
  let out = text;
  for (const e of edits.reverse()) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out === text ? undefined : out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const dirs = args.filter((a) => a !== '--check');
  const where = exportMap();
  const changed = [];
  for (const d of dirs.length ? dirs : ['packages', 'testbed', 'scripts']) {
    for (const f of tsFiles(join(ROOT, d))) {
      if (f.startsWith(CORE + '/src')) continue; // core itself imports relatively
      const text = readFileSync(f, 'utf8');
      if (!text.includes(`'${BARREL}'`)) continue;
      const out = rewrite(text, where, f);
      if (out === undefined) continue;
      changed.push(relative(ROOT, f));
      if (!check) writeFileSync(f, out);
    }
  }
  for (const f of changed) console.log(`${check ? 'would rewrite' : 'rewrote'} ${f}`);
  console.log(`${changed.length} file(s) ${check ? 'import the core barrel' : 'rewritten'}`);
  if (check && changed.length) process.exit(1);
}
