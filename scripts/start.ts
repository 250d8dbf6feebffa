import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { awsEnv, down, isRunning, up } from '../testbed/src/testbed.ts';
import { repoRoot, stateDir } from '../testbed/src/paths.ts';
import { Supervised } from './supervise.ts';
import { identityEnv } from '../testbed/src/identities.ts';

/**
 * `npm start`: the whole system in the foreground. With no KUBECONFIG and no AWS settings it
 * brings up the embedded testbed (real control plane + moto + node simulator) first; given those
 * settings it runs the operators against that cluster and account instead.
 */
const root = repoRoot();
const given = !!process.env.KUBECONFIG || !!process.env.AWS_REGION || !!process.env.AWS_ENDPOINT_URL;
let env: NodeJS.ProcessEnv = { ...process.env };
let startedTestbed = false;

console.log(`[start] operators run on Node ${process.version} (${process.execPath})`);

if (!given) {
  startedTestbed = !isRunning();
  const s = await up((line) => console.log(`[testbed] ${line}`));
  env = { ...env, ...awsEnv(s), KUBECONFIG: join(stateDir(), 'kubeconfig') };
} else {
  console.log(`[start] using KUBECONFIG=${env.KUBECONFIG ?? '(in-cluster)'} region=${env.AWS_REGION ?? '(from instance metadata)'}`);
}

/** Every operator package that has an entry point takes part (KUBE_IAAS_START_OPERATORS=a,b picks some). */
const only = process.env.KUBE_IAAS_START_OPERATORS?.split(',').filter(Boolean);
const operators = readdirSync(join(root, 'packages'))
  .filter((d) => d.endsWith('-operator'))
  .sort()
  .map((d) => ({ name: d, main: join(root, 'packages', d, 'src', 'main.ts') }))
  .filter((o) => existsSync(o.main) && (!only || only.includes(o.name)));
// The first metrics port; each operator takes the next. Taken ones are replaced by free ones.
const portBase = Number(process.env.KUBE_IAAS_START_PORT_BASE ?? 18080);

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line as `time LEVEL [operator] msg key=value …`; anything else as it came. */
function readable(name: string, line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `[${name}] ${line}`;
  }
  const { level, time, msg, operator: _op, name: _n, pid: _p, hostname: _h, ...rest } = rec;
  const when = typeof time === 'string' ? time.slice(11, 23) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${when} ${LEVELS[Number(level)] ?? String(level)} [${name}] ${String(msg ?? '')}${fields ? `  ${fields}` : ''}`;
}

const children = operators.map(
  // On the embedded testbed each operator runs as its own ServiceAccount and IAM user (testbed/README.md).
  (o, i) => new Supervised({ name: o.name, args: [o.main], port: portBase + i, env: { ...env, ...(given ? {} : identityEnv(stateDir(), o.name)) }, onLine: (name, line) => console.log(readable(name, line)) }),
);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // Every child, also one a signal already ended (its exitCode stays null; Supervised checks signalCode).
  await Promise.all(children.map((c) => c.stop()));
  const restarts = children.filter((c) => c.restarts).map((c) => `${c.spec.name} ${c.restarts}`);
  if (restarts.length) console.log(`[start] restarts: ${restarts.join(', ')}`);
  if (startedTestbed && process.env.KUBE_IAAS_KEEP_TESTBED !== '1') await down((line) => console.log(`[testbed] ${line}`));
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
for (const c of children) await c.start();
console.log(
  operators.length
    ? `[start] running ${operators.map((o) => o.name).join(', ')}; Ctrl-C stops them`
    : '[start] no operator has an entry point yet; the testbed stays up until Ctrl-C',
);

// Keep the event loop alive when no operator runs yet.
setInterval(() => undefined, 1 << 30);
