// Entry point: `node packages/all-in-one/src/main.ts --operators=lb,ingress [flags]` (shipped as
// dist/main.mjs by scripts/bundle.ts). Several operators in one process for small clusters: one
// Node runtime, one API server client, one /metrics /healthz /readyz server, one informer per
// resource. Each operator keeps its own Lease, flags, metrics and logs. See README.md.
import { KubeConfig } from '@kubernetes/client-node';
import {
  ConfigError,
  HealthServer,
  HelpRequested,
  KubeClient,
  SharedInformers,
  runtimeFlags,
  withSharedRuntime,
  type Operator,
  type FlagSpecs,
} from '@kube-iaas/core/runtime';
import { createLogger } from '@kube-iaas/core/log';
import { metricsRegistry } from '@kube-iaas/core/metrics';
import { EniOperator, eniFlags } from '@kube-iaas/eni-operator';
import { IngressOperator, ingressFlags } from '@kube-iaas/ingress-operator';
import { LbOperator, lbFlags } from '@kube-iaas/lb-operator';
import { ScalerOperator, scalerFlags } from '@kube-iaas/scaler-operator';
import { VolumeOperator, volumeFlags } from '@kube-iaas/volume-operator';
import { OPERATOR_NAMES, splitArgv, type OperatorName } from './argv.ts';

type Make = (argv: string[]) => Operator<FlagSpecs>;
const OPERATORS: Record<OperatorName, { flags: FlagSpecs; make: Make }> = {
  eni: { flags: eniFlags, make: (argv) => new EniOperator({ argv }) as unknown as Operator<FlagSpecs> },
  ingress: { flags: ingressFlags, make: (argv) => new IngressOperator({ argv }) as unknown as Operator<FlagSpecs> },
  lb: { flags: lbFlags, make: (argv) => new LbOperator({ argv }) as unknown as Operator<FlagSpecs> },
  scaler: { flags: scalerFlags, make: (argv) => new ScalerOperator({ argv }) as unknown as Operator<FlagSpecs> },
  volume: { flags: volumeFlags, make: (argv) => new VolumeOperator({ argv }) as unknown as Operator<FlagSpecs> },
};

const known = Object.fromEntries(
  OPERATOR_NAMES.map((n) => [n, new Set([...Object.keys(runtimeFlags), ...Object.keys(OPERATORS[n].flags)])]),
) as Record<OperatorName, Set<string>>;
const args = splitArgv(process.argv.slice(2), known);
const log = createLogger('all-in-one', 'info');

if (args.help) {
  process.stdout.write(
    [
      'all-in-one: several kube-iaas operators in one process.',
      `  --operators=${OPERATOR_NAMES.join(',')}  which to run (default: all)`,
      '  --metrics-bind-address=:8080   the one /metrics /healthz /readyz server',
      '  --<operator>.<flag>=value       a flag for one operator only, e.g. --lb.workers=8',
      '  any other flag goes to every chosen operator that has it; see each operator with --<operator>.help',
      '',
    ].join('\n'),
  );
  process.exit(0);
}
if (args.problems.length) {
  process.stderr.write(`${args.problems.join('\n')}\n`);
  process.exit(2);
}

const kubeConfig = new KubeConfig();
if (args.kubeconfig) kubeConfig.loadFromFile(args.kubeconfig);
else kubeConfig.loadFromDefault();
const client = new KubeClient(kubeConfig, { userAgent: 'kube-iaas/all-in-one' });
const health = new HealthServer({ bindAddress: args.metricsBindAddress, registry: metricsRegistry });
const shared = { kubeConfig, client, health, informers: new SharedInformers(client) };

const operators: Operator<FlagSpecs>[] = [];
for (const name of args.operators) {
  try {
    operators.push(withSharedRuntime(shared, () => OPERATORS[name].make(args.argv[name] ?? [])));
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${err.message}\n`);
      process.exit(0);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
let signals = 0;
const stop = async (sig: NodeJS.Signals): Promise<void> => {
  if (++signals > 1) {
    log.warn({ signal: sig }, 'second signal: exiting now');
    process.exit(1);
  }
  log.info({ signal: sig }, 'shutting down');
  const results = await Promise.allSettled(operators.map((o) => o.stop()));
  await health.stop();
  await client.close();
  process.exit(results.some((r) => r.status === 'rejected') ? 1 : 0);
};
process.on('SIGTERM', (s) => void stop(s));
process.on('SIGINT', (s) => void stop(s));

await health.start();
for (const op of operators) {
  try {
    await op.start();
  } catch (err) {
    // one operator failing to start must not take the others down with it: it shows in /readyz
    op.log.fatal({ err }, 'operator failed to start');
  }
}
log.info({ operators: args.operators, informers: shared.informers.size }, 'all-in-one started');
