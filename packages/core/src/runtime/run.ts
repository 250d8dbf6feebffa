// The process around an operator: flags problems, signals, graceful stop, exit codes.
import { ConfigError, HelpRequested, type FlagSpecs } from './config.ts';
import type { Operator } from './operator.ts';

/**
 * Runs an operator as a process: builds it (printing usage for --help, or the configuration
 * problems and exit code 2), starts it, and on SIGTERM / SIGINT stops it gracefully and exits 0
 * (a second signal exits at once). Stray promise rejections are logged instead of killing the
 * process — an operator never exits because the API server or AWS went away.
 */
export async function runOperator(factory: () => Operator<FlagSpecs>): Promise<Operator<FlagSpecs> | undefined> {
  let op: Operator<FlagSpecs>;
  try {
    op = factory();
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${err.message}\n`);
      process.exitCode = 0;
      return undefined;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return undefined;
    }
    throw err;
  }
  process.on('unhandledRejection', (reason) => op.log.error({ err: reason }, 'unhandled promise rejection'));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      op.log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(1);
    }
    op.log.info({ signal: sig }, 'shutting down');
    op.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        op.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await op.start();
  } catch (err) {
    op.log.fatal({ err }, 'operator failed to start');
    await op.stop().catch(() => undefined);
    process.exitCode = 1;
  }
  return op;
}
