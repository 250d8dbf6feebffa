/**
 * Collects unschedulable pods into batches: a batch closes `idleMs` after the last new pod, or
 * `maxMs` after the first one, whichever comes first; then `fire()` runs once.
 */
export class PendingBatcher {
  readonly #idleMs: number;
  readonly #maxMs: number;
  readonly #fire: () => void;
  readonly #now: () => number;
  #openedAt: number | undefined;
  #idle: NodeJS.Timeout | undefined;
  #max: NodeJS.Timeout | undefined;
  readonly #seen = new Set<string>();
  /** The pods of the batch that is collecting now. */
  readonly #batch = new Set<string>();

  constructor(opts: { idleMs: number; maxMs: number; fire: () => void; now?: () => number }) {
    this.#idleMs = opts.idleMs;
    this.#maxMs = opts.maxMs;
    this.#fire = opts.fire;
    this.#now = opts.now ?? Date.now;
  }

  /** True while a batch is collecting. */
  get open(): boolean {
    return this.#openedAt !== undefined;
  }

  get openedAt(): number | undefined {
    return this.#openedAt;
  }

  /**
   * Whether the pod belongs to the batch still collecting: the scaler leaves those pods for the run the
   * batch's close fires, and plans every other unschedulable pod. Blocking whole runs while any batch is
   * open would starve scale-up for as long as pods keep arriving (a 1,000-replica Deployment is created
   * over a minute).
   */
  holds(key: string): boolean {
    return this.#batch.has(key);
  }

  /** A pod became (or still is) unschedulable; pods already in the open batch do not extend it. */
  add(key: string): void {
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#batch.add(key);
    if (this.#openedAt === undefined) {
      this.#openedAt = this.#now();
      this.#max = setTimeout(() => this.#close(), this.#maxMs);
      this.#max.unref();
    }
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.#close(), this.#idleMs);
    this.#idle.unref();
  }

  /** Forget a pod (scheduled or deleted) so it can start a later batch. */
  forget(key: string): void {
    this.#seen.delete(key);
    this.#batch.delete(key);
  }

  #close(): void {
    if (this.#idle) clearTimeout(this.#idle);
    if (this.#max) clearTimeout(this.#max);
    this.#idle = this.#max = undefined;
    this.#openedAt = undefined;
    this.#batch.clear();
    this.#fire();
  }

  stop(): void {
    if (this.#idle) clearTimeout(this.#idle);
    if (this.#max) clearTimeout(this.#max);
    this.#openedAt = undefined;
    this.#batch.clear();
  }
}
