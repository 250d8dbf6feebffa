import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { applyMergePatch, createMergePatch, deepEqual } from './diff.ts';
import { runtimeMetrics } from './metrics.ts';
import type { KubeObject, ResourceType } from './types.ts';

export interface StatusWriteResult<T> {
  /** False when nothing changed and no request was made. */
  written: boolean;
  /** The object as the server returned it, or the input when nothing was written. */
  object: T;
}

export interface StatusWriteOptions {
  /**
   * Send `metadata.resourceVersion` so a write based on a stale object fails with 409 (retried by
   * the controller) instead of overwriting a newer status. Default false: the controller is the
   * only writer of its status and the next reconcile corrects it anyway.
   */
  optimistic?: boolean;
}

/**
 * Writes the status subresource with a JSON merge patch, and skips the request when the status
 * would not change — comparing against the object the reconcile read (normally the informer's
 * copy). Errors propagate.
 */
export class StatusWriter {
  readonly #client: KubeClient;
  readonly #log: Logger | undefined;

  constructor(client: KubeClient, log?: Logger) {
    this.#client = client;
    this.#log = log;
  }

  /**
   * Makes the status equal to `status` (keys absent from it are removed). Use with a status built
   * from scratch by the reconcile.
   */
  replace<T extends KubeObject & { status?: unknown }>(
    type: ResourceType,
    current: T,
    status: NonNullable<T['status']>,
    opts: StatusWriteOptions = {},
  ): Promise<StatusWriteResult<T>> {
    const patch = createMergePatch(current.status ?? {}, status ?? {});
    return this.#send(type, current, patch, opts);
  }

  /**
   * Merges `patch` (RFC 7386: nested objects merge, arrays replace, null deletes) into the status.
   * Use to set a few fields, e.g. `{ conditions, observedGeneration }`.
   */
  merge<T extends KubeObject & { status?: unknown }>(
    type: ResourceType,
    current: T,
    patch: Record<string, unknown>,
    opts: StatusWriteOptions = {},
  ): Promise<StatusWriteResult<T>> {
    const next = applyMergePatch(current.status ?? {}, patch);
    const effective = deepEqual(next, current.status ?? {}) ? undefined : patch;
    return this.#send(type, current, effective, opts);
  }

  async #send<T extends KubeObject>(
    type: ResourceType,
    current: T,
    statusPatch: unknown,
    opts: StatusWriteOptions,
  ): Promise<StatusWriteResult<T>> {
    const name = current.metadata?.name;
    if (!name) throw new Error(`status of ${type.kind}: object has no metadata.name`);
    if (statusPatch === undefined) {
      runtimeMetrics.statusWrites.inc({ outcome: 'skipped' });
      return { written: false, object: current };
    }
    const body: Record<string, unknown> = { status: statusPatch };
    if (opts.optimistic && current.metadata?.resourceVersion) {
      body.metadata = { resourceVersion: current.metadata.resourceVersion };
    }
    try {
      const object = await this.#client.patch<T>(
        type,
        { name, namespace: current.metadata?.namespace },
        body,
        { patchType: 'merge', subresource: 'status' },
      );
      runtimeMetrics.statusWrites.inc({ outcome: 'written' });
      this.#log?.debug({ kind: type.kind, name, namespace: current.metadata?.namespace }, 'status written');
      return { written: true, object };
    } catch (err) {
      runtimeMetrics.statusWrites.inc({ outcome: 'failed' });
      throw err;
    }
  }
}
