import { OwnershipError } from '../tags/ownership.ts';
import { SubnetSelectionError } from '../tags/discovery.ts';

/**
 * How a failed AWS call should be handled; classified once, here, for every operator:
 * - `not-found`: a resource named in the request does not exist (create it, or treat a delete as done).
 * - `throttled`: the account's API budget is exhausted; back off (at least `retryAfterMs`).
 * - `retryable`: transient (5xx, network, a resource still changing state, expired credentials); back off and retry.
 * - `conflict`: the request collides with current state (in use, dependency, duplicate name, rule
 *   already there, idempotency token reused); requeue later or resolve the collision (look the existing one up).
 * - `terminal`: the request is invalid or not allowed (bad parameter, limit exceeded, access denied);
 *   retrying unchanged cannot help: surface the AWS message as a condition.
 */
export type AwsErrorKind = 'not-found' | 'throttled' | 'retryable' | 'conflict' | 'terminal';

export interface AwsErrorClassification {
  kind: AwsErrorKind;
  /** The AWS error code (`InvalidVolume.NotFound`, `LoadBalancerNotFound`), or the error's name/code otherwise. */
  code: string;
  /** The AWS message, unchanged. */
  message: string;
  /** Minimum wait before retrying: the Retry-After header, or 1 s for throttling. */
  retryAfterMs?: number;
  httpStatus?: number;
  requestId?: string;
}

/** Minimum backoff suggested for throttling when AWS sends no Retry-After. */
export const THROTTLE_RETRY_AFTER_MS = 1000;

const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'TooManyRequests',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'TransactionInProgressException',
]);

const RETRYABLE = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'InternalServiceError',
  'InternalServiceException',
  'ServiceFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'IncorrectState',
  'IncorrectInstanceState',
  'IncorrectModificationState',
  'ResourceContentionFault',
  'ScalingActivityInProgress',
  'ScalingActivityInProgressFault',
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'IDPCommunicationError',
  'CredentialsProviderError',
  'AbortError',
]);

const CONFLICT = new Set([
  'ResourceInUse',
  'ResourceInUseFault',
  'ResourceInUseException',
  'DependencyViolation',
  'DuplicateLoadBalancerName',
  'DuplicateTargetGroupName',
  'DuplicateListener',
  'PriorityInUse',
  'IdempotentParameterMismatch',
  'AlreadyExists',
  'AlreadyExistsFault',
  'AlreadyExistsException',
  'VolumeInUse',
  'ConcurrentModification',
  'ConcurrentModificationException',
  'ConflictException',
  'OperationInProgress',
]);

/** Codes whose shape says not-found/conflict but that name a user's input: retrying or creating will not help. */
const TERMINAL_EXCEPTIONS = new Set([
  'CertificateNotFound',
  'InvalidAMIID.NotFound',
  'InvalidKeyPair.NotFound',
  'InvalidLaunchTemplateName.NotFoundException',
  'DuplicateTagKeys',
  'InvalidVolume.ZoneMismatch',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
]);

interface SdkLikeError {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The AWS wire code: query-protocol errors carry it in `Code`; modeled errors' names end in `Exception`. */
function codeOf(e: SdkLikeError): string {
  const name = str(e.name);
  return str(e.Code) ?? (name !== 'Error' ? name : undefined) ?? str(e.code) ?? name ?? 'UnknownError';
}

function isNotFoundCode(code: string): boolean {
  return /(\.NotFound|NotFound|NotFoundException|NotFoundFault|^NoSuchEntity)$/.test(code) || code === 'ResourceNotFoundException' || code === 'NoSuchEntity';
}

function isConflictCode(code: string): boolean {
  return CONFLICT.has(code) || /(\.Duplicate|\.InUse|InUse|AlreadyExists(Exception|Fault)?)$/.test(code) || /^Duplicate/.test(code);
}

function retryAfterFrom(e: SdkLikeError): number | undefined {
  const header = e.$response?.headers?.['retry-after'] ?? e.$response?.headers?.['Retry-After'];
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function kindOf(e: SdkLikeError, code: string, message: string, status: number | undefined): AwsErrorKind {
  if (TERMINAL_EXCEPTIONS.has(code)) return 'terminal';
  if (THROTTLED.has(code) || status === 429 || e.$retryable?.throttling === true) return 'throttled';
  if (isNotFoundCode(code)) return 'not-found';
  // Auto Scaling and ELBv2 report a missing group as ValidationError "... not found".
  if (code === 'ValidationError' && /\bnot found\b/i.test(message)) return 'not-found';
  if (isConflictCode(code)) return 'conflict';
  if (RETRYABLE.has(code) || NETWORK_CODES.has(code) || code.startsWith('UND_ERR_')) return 'retryable';
  if (status !== undefined && status >= 500) return 'retryable';
  if (e.$fault === 'server') return 'retryable';
  if (e.$retryable) return 'retryable';
  return 'terminal';
}

/**
 * Classifies anything a client call threw. Works on raw SDK exceptions, `AwsError`, Node network
 * errors, and kube-iaas's own `OwnershipError` / `SubnetSelectionError` (both terminal).
 * Unknown non-AWS errors are terminal: a bug, not something backoff fixes.
 */
export function classifyAwsError(err: unknown): AwsErrorClassification {
  if (err instanceof AwsError) {
    const c: AwsErrorClassification = { kind: err.kind, code: err.code, message: err.message };
    if (err.retryAfterMs !== undefined) c.retryAfterMs = err.retryAfterMs;
    if (err.httpStatus !== undefined) c.httpStatus = err.httpStatus;
    if (err.requestId !== undefined) c.requestId = err.requestId;
    return c;
  }
  if (err instanceof OwnershipError || err instanceof SubnetSelectionError) return { kind: 'terminal', code: err.code, message: err.message };
  if (typeof err !== 'object' || err === null) return { kind: 'terminal', code: 'UnknownError', message: String(err) };
  const e = err as SdkLikeError;
  const code = codeOf(e);
  const message = str(e.message) ?? code;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const kind = kindOf(e, code, message, status);
  const c: AwsErrorClassification = { kind, code, message };
  const after = retryAfterFrom(e);
  if (after !== undefined) c.retryAfterMs = kind === 'throttled' ? Math.max(after, THROTTLE_RETRY_AFTER_MS) : after;
  else if (kind === 'throttled') c.retryAfterMs = THROTTLE_RETRY_AFTER_MS;
  if (status !== undefined) c.httpStatus = status;
  if (e.$metadata?.requestId) c.requestId = e.$metadata.requestId;
  return c;
}

export interface AwsErrorInit extends AwsErrorClassification {
  service?: string;
  operation?: string;
  cause?: unknown;
}

/**
 * What every kube-iaas AWS client throws: the SDK's exception, classified. `message` is AWS's
 * message unchanged and `code` its error code; `name` keeps the SDK exception's name (and
 * `$metadata`/`$fault` are kept) so SDK waiters still recognise it; `cause` is the original.
 * `instanceof` the SDK's exception classes no longer matches: test `code` or `kind`.
 */
export class AwsError extends Error {
  readonly kind: AwsErrorKind;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly service: string | undefined;
  readonly operation: string | undefined;
  $metadata: Record<string, unknown> | undefined;
  $fault: 'client' | 'server' | undefined;

  constructor(init: AwsErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'AwsError';
    this.kind = init.kind;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.httpStatus = init.httpStatus;
    this.requestId = init.requestId;
    this.service = init.service;
    this.operation = init.operation;
    this.$metadata = undefined;
    this.$fault = undefined;
  }

  /** Wraps anything thrown by a call; an `AwsError` is returned as it is. */
  static from(err: unknown, ctx: { service?: string; operation?: string } = {}): AwsError {
    if (err instanceof AwsError) return err;
    const c = classifyAwsError(err);
    // A denied call names the IAM action it lacked, so the condition and Event say what to grant
    // (EC2's UnauthorizedOperation message is encoded and names none).
    const action = ACCESS_DENIED_CODES.has(c.code) && ctx.service && ctx.operation ? `${IAM_SERVICE_PREFIX[ctx.service] ?? ctx.service}:${ctx.operation}` : undefined;
    if (action && !c.message.includes(action)) c.message = `${c.message} (missing IAM permission ${action})`;
    const wrapped = new AwsError({ ...c, ...ctx, cause: err });
    if (typeof err === 'object' && err !== null) {
      const e = err as SdkLikeError & { $metadata?: Record<string, unknown> };
      const name = str(e.name);
      if (name && name !== 'Error') wrapped.name = name;
      if (e.$metadata) wrapped.$metadata = e.$metadata;
      if (e.$fault === 'client' || e.$fault === 'server') wrapped.$fault = e.$fault;
      if (err instanceof Error && err.stack) wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${err.stack.split('\n').slice(1).join('\n')}`;
    }
    return wrapped;
  }

  /** `EC2 AttachVolume: VolumeInUse: vol-1 is already attached to an instance` */
  override toString(): string {
    const where = [this.service, this.operation].filter(Boolean).join(' ');
    return `${where ? `${where}: ` : ''}${this.code}: ${this.message}`;
  }
}

/** Codes AWS answers a call with when the caller's policy does not allow it. */
export const ACCESS_DENIED_CODES: ReadonlySet<string> = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess', 'AuthorizationError']);

/** core's service label (`kube_iaas_aws_api_calls_total{service}`) → the IAM action prefix. */
export const IAM_SERVICE_PREFIX: Readonly<Record<string, string>> = { ec2: 'ec2', autoscaling: 'autoscaling', elbv2: 'elasticloadbalancing', kms: 'kms', sts: 'sts' };

/** The IAM action a denied call lacked (`ec2:CreateVolume`), or undefined when `err` is no access denial. */
export function deniedAction(err: unknown): string | undefined {
  if (!(err instanceof AwsError) || !ACCESS_DENIED_CODES.has(err.code) || !err.service || !err.operation) return undefined;
  return `${IAM_SERVICE_PREFIX[err.service] ?? err.service}:${err.operation}`;
}

export function isAwsErrorKind(err: unknown, kind: AwsErrorKind): boolean {
  return classifyAwsError(err).kind === kind;
}

export const isNotFound = (err: unknown): boolean => isAwsErrorKind(err, 'not-found');
export const isThrottled = (err: unknown): boolean => isAwsErrorKind(err, 'throttled');
export const isConflict = (err: unknown): boolean => isAwsErrorKind(err, 'conflict');
export const isRetryable = (err: unknown): boolean => {
  const k = classifyAwsError(err).kind;
  return k === 'retryable' || k === 'throttled';
};
