// Coalesces lookups made by concurrent reconciles into one describe call: every `get(key)` asked
// within `windowMs` (or until `maxBatch` keys) goes out as one request whose filter lists all keys.
// EBS volumes are described by filter (not VolumeIds) so one missing volume does not fail the batch.

export class DescribeBatcher<T> {
  readonly #fetch: (keys: string[]) => Promise<Map<string, T[]>>;
  readonly #windowMs: number;
  readonly #maxBatch: number;
  #pending = new Map<string, { resolve: (v: T[]) => void; reject: (e: unknown) => void }[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(fetch: (keys: string[]) => Promise<Map<string, T[]>>, opts: { windowMs?: number; maxBatch?: number } = {}) {
    this.#fetch = fetch;
    this.#windowMs = opts.windowMs ?? 20;
    this.#maxBatch = opts.maxBatch ?? 200;
  }

  get(key: string): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const waiters = this.#pending.get(key) ?? [];
      waiters.push({ resolve, reject });
      this.#pending.set(key, waiters);
      if (this.#pending.size >= this.#maxBatch) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#windowMs);
    });
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = new Map();
    if (batch.size === 0) return;
    this.#fetch([...batch.keys()]).then(
      (found) => {
        for (const [k, ws] of batch) for (const w of ws) w.resolve(found.get(k) ?? []);
      },
      (err: unknown) => {
        for (const ws of batch.values()) for (const w of ws) w.reject(err);
      },
    );
  }
}
