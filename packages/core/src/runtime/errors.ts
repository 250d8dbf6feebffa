/**
 * How the runtime treats an error thrown by a reconcile. Any error object may carry
 *
 * - `kind`: 'throttled' | 'retryable' | 'conflict' | 'not-found' | 'terminal' | … — the AWS layer's
 *   classified errors and the runtime's own `KubeApiError` both carry it;
 * - `retryAfterMs`: the earliest time to try again (a Retry-After header, a throttling hint).
 *
 * 'terminal' errors are recorded (metric, log, the operator's condition) but not retried until the
 * object changes or the periodic resync comes round; every other kind, and errors without a kind,
 * are retried with per-key exponential backoff.
 */
export interface ClassifiableError {
  kind?: string;
  retryAfterMs?: number;
  message?: string;
}

export interface ErrorClass {
  kind: string;
  terminal: boolean;
  retryAfterMs?: number;
  message: string;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

/** Classifies an error for the retry policy; looks at the error and, failing that, its `cause`. */
export function classifyError(err: unknown): ErrorClass {
  const message = errorMessage(err);
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 4; depth++) {
    const r = asRecord(e);
    if (!r) break;
    const kind = typeof r.kind === 'string' ? r.kind : undefined;
    const retryAfterMs = typeof r.retryAfterMs === 'number' && r.retryAfterMs >= 0 ? r.retryAfterMs : undefined;
    if (kind !== undefined || retryAfterMs !== undefined) {
      const k = kind ?? 'throttled';
      return { kind: k, terminal: k === 'terminal', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), message };
    }
    e = r.cause;
  }
  return { kind: 'retryable', terminal: false, message };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  const r = asRecord(err);
  if (r && typeof r.message === 'string') return r.message;
  return String(err);
}

/** Marks an error terminal: the reconcile will not be retried until the object changes or a resync. */
export class TerminalError extends Error {
  readonly kind = 'terminal';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** Asks for a retry no sooner than `retryAfterMs` (the key's backoff still applies if it is longer). */
export class RetryAfterError extends Error {
  readonly kind = 'retryable';
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryAfterError';
    this.retryAfterMs = retryAfterMs;
  }
}
