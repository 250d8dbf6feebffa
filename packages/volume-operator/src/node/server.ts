import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '@kube-iaas/core/log';
import { toCsiError } from './errors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- requests are proto-loader plain objects
export type Handler = (req: any) => Promise<object>;

/** `unix:///csi/csi.sock`, `unix:/csi/csi.sock` or a bare path → the socket path. */
export function socketPath(endpoint: string): string {
  const m = /^unix:(?:\/\/)?(\/.+)$/.exec(endpoint);
  if (m?.[1]) return m[1];
  if (endpoint.startsWith('/')) return endpoint;
  throw new Error(`--endpoint "${endpoint}" is not a unix socket (unix:///path/to/csi.sock)`);
}

/** Turns async handlers into grpc-js unary handlers: one log line per call, errors as CSI status codes. */
export function unary(log: Logger, handlers: Record<string, Handler>): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(handlers)) {
    out[name] = (call: ServerUnaryCall<unknown, object>, callback: sendUnaryData<object>) => {
      const t = performance.now();
      fn(call.request).then(
        (res) => {
          log.debug({ method: name, ms: Math.round(performance.now() - t) }, 'ok');
          callback(null, res);
        },
        (err: unknown) => {
          const e = toCsiError(err);
          log.warn({ method: name, code: e.code, ms: Math.round(performance.now() - t), err: e.message }, 'failed');
          callback({ code: e.code, details: e.message });
        },
      );
    };
  }
  return out;
}

/** Listens on the unix socket, replacing a stale socket a previous run left (and nothing else). */
export async function listen(endpoint: string, services: [ServiceDefinition, UntypedServiceImplementation][]): Promise<{ server: Server; path: string }> {
  const path = socketPath(endpoint);
  await mkdir(dirname(path), { recursive: true });
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSocket()) await unlink(path);
  else if (st) throw new Error(`${path} exists and is not a socket; not replacing it`);
  const server = new Server();
  for (const [def, impl] of services) server.addService(def, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${path}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return { server, path };
}
