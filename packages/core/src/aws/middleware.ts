import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  FinalizeHandlerOutput,
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  Pluggable,
} from '@smithy/types';
import { awsMetrics, recordAwsCall, type AwsCallRecorder } from './call-stats.ts';
import { AwsError } from './errors.ts';
import { operationClass, type AwsRateLimiter, type AwsService } from './rate-limit.ts';

export interface AwsCallPluginOptions {
  service: AwsService;
  /** Per-attempt client-side rate limit; every SDK attempt (retries included) takes a token. */
  limiter?: AwsRateLimiter;
  /** Also counts into this recorder (e.g. one per `AwsClients`). */
  recorder?: AwsCallRecorder;
}

function operationOf(context: HandlerExecutionContext): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}

function attemptsOf(value: unknown): number {
  const attempts = (value as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
}

/**
 * The SDK plugin every kube-iaas client carries:
 * - outermost (initialize step): times and counts each call by service, operation and outcome
 *   (`kube_iaas_aws_api_calls_total`, `..._call_duration_seconds`, `..._retries_total`, `awsCallStats()`)
 *   and turns whatever the call threw into a classified `AwsError`;
 * - per attempt (finalize step, after the retry strategy, before signing): waits for the
 *   service/class token bucket (`kube_iaas_aws_rate_limit_wait_seconds`).
 */
export function awsCallPlugin<I extends object = object, O extends object = object>(opts: AwsCallPluginOptions): Pluggable<I, O> {
  const { service, limiter, recorder } = opts;

  const observe =
    (next: InitializeHandler<I, O>, context: HandlerExecutionContext): InitializeHandler<I, O> =>
    async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
      const operation = operationOf(context);
      const cls = operationClass(operation);
      const started = performance.now();
      try {
        const out = await next(args);
        recordAwsCall({ service, operation, class: cls, outcome: 'success', durationMs: performance.now() - started, attempts: attemptsOf(out.output), at: Date.now() }, recorder);
        return out;
      } catch (e) {
        const err = AwsError.from(e, { service, operation });
        recordAwsCall(
          { service, operation, class: cls, outcome: err.kind, code: err.code, durationMs: performance.now() - started, attempts: attemptsOf(err), at: Date.now() },
          recorder,
        );
        throw err;
      }
    };

  const limit =
    (next: FinalizeHandler<I, O>, context: HandlerExecutionContext): FinalizeHandler<I, O> =>
    async (args: FinalizeHandlerArguments<I>): Promise<FinalizeHandlerOutput<O>> => {
      const operation = operationOf(context);
      const waitedMs = await limiter!.acquire(service, operation);
      awsMetrics().rateLimitWait.observe({ service, class: operationClass(operation) }, waitedMs / 1000);
      return next(args);
    };

  return {
    applyToStack: (stack) => {
      stack.add(observe, { step: 'initialize', priority: 'normal', name: 'kubeIaasCallMetrics', override: true });
      if (limiter) stack.addRelativeTo(limit, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'kubeIaasRateLimit', override: true });
    },
  };
}
