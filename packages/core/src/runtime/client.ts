import { IsomorphicFetchHttpLibrary, RequestContext, type HttpMethod, type KubeConfig } from '@kubernetes/client-node';
import { runtimeMetrics } from './metrics.ts';
import { resourcePath, type KubeList, type KubeObject, type ResourceType } from './types.ts';

/** A Kubernetes `Status` body of a failed request. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; retryAfterSeconds?: number; causes?: { field?: string; message?: string }[] };
}

/**
 * A failed API server request. `kind` follows the runtime's error classes (see `classifyError`):
 * 404 not-found, 409 conflict, 410 gone, 429 throttled (with `retryAfterMs`), 400/422 terminal
 * (the request itself is wrong; retrying the same thing cannot help), 0 (no response) / 5xx /
 * 401 / 403 retryable.
 */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string | undefined;
  readonly kind: string;
  readonly retryAfterMs: number | undefined;
  readonly status: KubeStatus | undefined;

  constructor(
    message: string,
    code: number,
    status?: KubeStatus,
    retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeApiError';
    this.code = code;
    this.status = status;
    this.reason = status?.reason;
    this.retryAfterMs = retryAfterMs;
    this.kind = kindOfStatus(code);
  }
}

function kindOfStatus(code: number): string {
  switch (code) {
    case 404:
      return 'not-found';
    case 409:
      return 'conflict';
    case 410:
      return 'gone';
    case 429:
      return 'throttled';
    case 400:
    case 422:
      return 'terminal';
    default:
      return 'retryable';
  }
}

export function isKubeNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}
export function isKubeConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}
export function isKubeAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409 && err.reason === 'AlreadyExists';
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Per-request timeout, default 30s. */
  timeoutMs?: number;
}

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

/**
 * A small JSON client for the API server built on client-node 2.x's transport and auth
 * (`KubeConfig.applySecurityAuthentication`): objects stay plain JSON exactly as the server sends
 * them (client-node's typed APIs turn timestamps into Dates, the watch stream does not — mixing
 * both in one cache is a trap), any kind is reachable by its `ResourceType`, and every failure is a
 * `KubeApiError` with a `kind`. Connections are reused (client-node makes a new agent per call).
 */
export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly #http = new IsomorphicFetchHttpLibrary();
  #dispatcher: Dispatcher;
  #dispatcherSince = 0;
  #requests = 0;
  readonly #userAgent: string;

  constructor(kubeConfig: KubeConfig, opts: { userAgent?: string } = {}) {
    this.kubeConfig = kubeConfig;
    this.#userAgent = opts.userAgent ?? 'kube-iaas';
  }

  /** Requests sent so far (all verbs). */
  get requestCount(): number {
    return this.#requests;
  }

  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const verb = method.toUpperCase();
    const ctx = new RequestContext(url.toString(), verb as HttpMethod);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', this.#userAgent);
    if (opts.body !== undefined) {
      ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
      ctx.setBody(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    }
    await this.kubeConfig.applySecurityAuthentication(ctx);
    this.#reuseDispatcher(ctx);
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
    ctx.setSignal(opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout);
    this.#requests++;
    let status: number;
    let text: string;
    let headers: Record<string, string>;
    try {
      const res = await this.#http.send(ctx).toPromise();
      status = res.httpStatusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      runtimeMetrics.kubeRequests.inc({ verb, code: '0' });
      throw new KubeApiError(`${verb} ${path}: ${(err as Error)?.message ?? String(err)}`, 0, undefined, undefined, {
        cause: err,
      });
    }
    runtimeMetrics.kubeRequests.inc({ verb, code: String(status) });
    let data: unknown = undefined;
    if (text.length > 0) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (status >= 200 && status < 300) return data as T;
    const st = typeof data === 'object' && data !== null ? (data as KubeStatus) : undefined;
    const retryAfter = retryAfterMs(headers['retry-after'], st);
    const reason = st?.reason ?? '';
    const msg = st?.message ?? (typeof data === 'string' ? data : '');
    throw new KubeApiError(`${verb} ${path}: ${status} ${reason}${msg ? `: ${msg}` : ''}`.trim(), status, st, retryAfter);
  }

  async get<T extends KubeObject>(type: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', resourcePath(type, { namespace: scoped(type, namespace), name }));
    } catch (err) {
      if (isKubeNotFound(err)) return undefined;
      throw err;
    }
  }

  list<T extends KubeObject>(
    type: ResourceType,
    opts: {
      namespace?: string | undefined;
      labelSelector?: string | undefined;
      fieldSelector?: string | undefined;
      limit?: number | undefined;
      continue?: string | undefined;
      resourceVersion?: string | undefined;
    } = {},
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(type, { namespace: scoped(type, opts.namespace) }), {
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
      },
    });
  }

  create<T extends KubeObject>(type: ResourceType, obj: T, opts: { fieldManager?: string } = {}): Promise<T> {
    return this.request<T>('POST', resourcePath(type, { namespace: scoped(type, obj.metadata?.namespace) }), {
      body: { apiVersion: type.apiVersion, kind: type.kind, ...obj },
      query: { fieldManager: opts.fieldManager },
    });
  }

  /** PUT; the object's metadata.resourceVersion makes it a compare-and-swap. */
  replace<T extends KubeObject>(type: ResourceType, obj: T, opts: { subresource?: string } = {}): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`replace ${type.kind}: metadata.name is required`);
    return this.request<T>(
      'PUT',
      resourcePath(type, { namespace: scoped(type, obj.metadata?.namespace), name, subresource: opts.subresource }),
      { body: { apiVersion: type.apiVersion, kind: type.kind, ...obj } },
    );
  }

  patch<T extends KubeObject>(
    type: ResourceType,
    target: { name: string; namespace?: string | undefined },
    patch: unknown,
    opts: { patchType?: PatchType; subresource?: string; fieldManager?: string; force?: boolean } = {},
  ): Promise<T> {
    const patchType = opts.patchType ?? 'merge';
    return this.request<T>(
      'PATCH',
      resourcePath(type, {
        namespace: scoped(type, target.namespace),
        name: target.name,
        subresource: opts.subresource,
      }),
      {
        body: patch,
        contentType: patchContentType[patchType],
        query: { fieldManager: opts.fieldManager, force: opts.force },
      },
    );
  }

  /** DELETE; resolves false when the object was already gone. */
  async delete(
    type: ResourceType,
    target: { name: string; namespace?: string | undefined },
    opts: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): Promise<boolean> {
    try {
      await this.request(
        'DELETE',
        resourcePath(type, { namespace: scoped(type, target.namespace), name: target.name }),
        opts.propagationPolicy || opts.preconditions
          ? {
              body: {
                apiVersion: 'v1',
                kind: 'DeleteOptions',
                propagationPolicy: opts.propagationPolicy,
                preconditions: opts.preconditions,
              },
            }
          : {},
      );
      return true;
    } catch (err) {
      if (isKubeNotFound(err)) return false;
      throw err;
    }
  }

  /** Drops the pooled connections (at shutdown). */
  async close(): Promise<void> {
    const d = this.#dispatcher;
    this.#dispatcher = undefined;
    if (d) await d.close().catch(() => undefined);
  }

  /**
   * client-node creates a fresh undici Agent in every `applySecurityAuthentication`, so no
   * connection is ever reused. Keep the first one for a few minutes (credentials from files can
   * rotate, so not forever) and let the old one finish its in-flight requests before it closes.
   */
  #reuseDispatcher(ctx: RequestContext): void {
    const fresh = ctx.getDispatcher();
    if (!fresh) return;
    const now = Date.now();
    if (this.#dispatcher && now - this.#dispatcherSince < 5 * 60_000) {
      ctx.setDispatcher(this.#dispatcher);
      void fresh.close().catch(() => undefined);
      return;
    }
    const old = this.#dispatcher;
    this.#dispatcher = fresh;
    this.#dispatcherSince = now;
    if (old) void old.close().catch(() => undefined);
  }
}

function scoped(type: ResourceType, namespace: string | undefined): string | undefined {
  return type.namespaced ? namespace || undefined : undefined;
}

function retryAfterMs(header: string | undefined, st: KubeStatus | undefined): number | undefined {
  if (header !== undefined) {
    const s = Number(header);
    if (Number.isFinite(s) && s >= 0) return s * 1000;
    const at = Date.parse(header);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  const d = st?.details?.retryAfterSeconds;
  return typeof d === 'number' ? d * 1000 : undefined;
}
