import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A readiness check: `undefined` when fine, otherwise the reason it is not. */
export type ReadinessCheck = () => string | undefined;

export interface HealthServerOptions {
  /** `host:port`, `:port` (all interfaces) or `0` to disable; `:0` picks a free port. */
  bindAddress: string;
  registry: Registry;
  /** Named readiness checks for `/readyz`. */
  readiness?: Record<string, ReadinessCheck>;
}

export function parseBindAddress(addr: string): { host: string | undefined; port: number } | undefined {
  if (addr === '0') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  if (!m) throw new Error(`expected host:port, :port or 0, got ${JSON.stringify(addr)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port ${port} is out of range`);
  const host = m[1] ?? (m[2] || undefined);
  return { host, port };
}

/**
 * The operator's HTTP endpoint: `/metrics` (Prometheus text from the registry), `/healthz` (the
 * process and its event loop are alive) and `/readyz` (every readiness check passes; `?verbose`
 * lists them). Anything else is 404.
 */
export class HealthServer {
  readonly #opts: HealthServerOptions;
  readonly #checks: Map<string, ReadinessCheck>;
  #server: Server | undefined;

  constructor(opts: HealthServerOptions) {
    this.#opts = opts;
    this.#checks = new Map(Object.entries(opts.readiness ?? {}));
    parseBindAddress(opts.bindAddress); // validate early
  }

  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  /** The bound address once listening (useful with `:0`). */
  get address(): AddressInfo | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Evaluates the readiness checks. */
  readiness(): { ready: boolean; failures: Record<string, string>; passed: string[] } {
    const failures: Record<string, string> = {};
    const passed: string[] = [];
    for (const [name, check] of this.#checks) {
      let r: string | undefined;
      try {
        r = check();
      } catch (err) {
        r = `check threw: ${(err as Error).message}`;
      }
      if (r === undefined) passed.push(name);
      else failures[name] = r;
    }
    return { ready: Object.keys(failures).length === 0, failures, passed };
  }

  async start(): Promise<void> {
    const bind = parseBindAddress(this.#opts.bindAddress);
    if (!bind || this.#server) return;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      switch (url.pathname) {
        case '/metrics':
          this.#opts.registry.metrics().then(
            (text) => res.writeHead(200, { 'Content-Type': this.#opts.registry.contentType }).end(text),
            (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
          );
          return;
        case '/healthz':
        case '/livez':
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
          return;
        case '/readyz': {
          const r = this.readiness();
          const verbose = url.searchParams.has('verbose');
          let body = r.ready ? 'ok\n' : '';
          if (verbose || !r.ready) {
            body =
              r.passed.map((n) => `[+]${n} ok\n`).join('') +
              Object.entries(r.failures)
                .map(([n, why]) => `[-]${n} failed: ${why}\n`)
                .join('') +
              (r.ready ? 'readyz check passed\n' : 'readyz check failed\n');
          }
          res.writeHead(r.ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(body);
          return;
        }
        default:
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
