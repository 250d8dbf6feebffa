// A minimal list + watch over node:https for the agent's two selectors (this node's pods, this node's EniPool).
// Not @kubernetes/client-node: loading it alone takes the process to ~130 MiB RSS, and the agent runs on
// every node with a budget of 80 MiB. Connection: in-cluster (service account token + CA) by default.
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';

export interface ApiConn {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Re-read at every request: projected service account tokens rotate. */
  tokenFile?: string;
  /**
   * A unix socket that leads to the API server (a node-local relay): used instead of TCP, while TLS is still
   * checked against `server`'s host. The testbed's agents run in network namespaces that cannot reach 127.0.0.1.
   */
  socketPath?: string;
}

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';

export function connFromFlags(f: { server?: string | undefined; socketPath?: string | undefined; caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined; tokenFile?: string | undefined }): ApiConn {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  const server = f.server ?? (host ? `https://${host.includes(':') ? `[${host}]` : host}:${port}` : '');
  if (!server) throw new Error('no API server: set --kube-api-server or run in a pod (KUBERNETES_SERVICE_HOST)');
  const read = (p: string | undefined): Buffer | undefined => (p ? readFileSync(p) : undefined);
  const inCluster = !f.server;
  const conn: ApiConn = { server: server.replace(/\/+$/, '') };
  const ca = read(f.caFile ?? (inCluster ? `${SA}/ca.crt` : undefined));
  if (ca) conn.ca = ca;
  const cert = read(f.certFile);
  if (cert) conn.cert = cert;
  const key = read(f.keyFile);
  if (key) conn.key = key;
  const tokenFile = f.tokenFile ?? (inCluster && !cert ? `${SA}/token` : undefined);
  if (tokenFile) conn.tokenFile = tokenFile;
  if (f.socketPath) conn.socketPath = f.socketPath;
  return conn;
}

interface Obj { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }

function options(conn: ApiConn, path: string): RequestOptions {
  const u = new URL(conn.server + path);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'kube-iaas-eni-agent' };
  if (conn.tokenFile) headers['Authorization'] = `Bearer ${readFileSync(conn.tokenFile, 'utf8').trim()}`;
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  const via = conn.socketPath ? { socketPath: conn.socketPath } : {};
  return { hostname, port: u.port || 443, path: u.pathname + u.search, headers, ca: conn.ca, cert: conn.cert, key: conn.key, ...via };
}

function getJson<T>(conn: ApiConn, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(options(conn, path), (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(Object.assign(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200)}`), { status: res.statusCode }));
        else resolve(JSON.parse(body) as T);
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

export interface Watched<T> {
  /** Objects by `namespace/name`. */
  items: Map<string, T>;
  synced: Promise<void>;
  stop(): void;
}

/**
 * Lists `path` with `fieldSelector`, then watches from the list's resourceVersion; relists after a watch
 * error (410 Gone included) with backoff, resumes from the last resourceVersion after a normal close.
 * `transform` slims each object before it is kept; `changed` runs after every change.
 */
export function listWatch<T extends Obj>(conn: ApiConn, path: string, fieldSelector: string, transform: (o: T) => T, changed: () => void): Watched<T> {
  const items = new Map<string, T>();
  const keyOf = (o: T): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const q = `fieldSelector=${encodeURIComponent(fieldSelector)}`;
  let stopped = false;
  let failures = 0;
  let current: ReturnType<typeof request> | undefined;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((r) => (markSynced = r));

  const relist = async (): Promise<void> => {
    if (stopped) return;
    try {
      const list = await getJson<{ items?: T[]; metadata?: { resourceVersion?: string } }>(conn, `${path}?${q}`);
      items.clear();
      for (const o of list.items ?? []) items.set(keyOf(o), transform(o));
      failures = 0;
      markSynced();
      changed();
      watch(list.metadata?.resourceVersion ?? '');
    } catch (err) {
      // The resource does not exist yet (the EniPool CRD before the operator installed it): nothing to serve
      // from it, which is an answer; look again soon rather than after an ever longer backoff.
      if ((err as { status?: number }).status === 404) {
        items.clear();
        markSynced();
        changed();
        setTimeout(() => void relist(), 2000).unref();
        return;
      }
      retry();
    }
  };
  const retry = (): void => {
    if (stopped) return;
    failures++;
    setTimeout(() => void relist(), Math.min(30_000, 500 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2)).unref();
  };
  const watch = (rv: string): void => {
    if (stopped) return;
    let lastRv = rv;
    let failed = false;
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const req = request(options(conn, `${path}?${q}&watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}&resourceVersion=${encodeURIComponent(rv)}`), (res) => {
      if (res.statusCode !== 200) {
        failed = true;
        res.resume();
        retry();
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: T };
          if (ev.type === 'ERROR') {
            failed = true;
            req.destroy();
            retry();
            return;
          }
          lastRv = ev.object.metadata?.resourceVersion ?? lastRv;
          if (ev.type === 'BOOKMARK') continue;
          if (ev.type === 'DELETED') items.delete(keyOf(ev.object));
          else items.set(keyOf(ev.object), transform(ev.object));
          changed();
        }
      });
      res.on('end', () => {
        if (!failed && !stopped) watch(lastRv);
      });
    });
    req.on('error', () => {
      if (!failed && !stopped) {
        failed = true;
        retry();
      }
    });
    req.end();
    current = req;
  };
  void relist();
  return {
    items,
    synced,
    stop: () => {
      stopped = true;
      current?.destroy();
    },
  };
}
