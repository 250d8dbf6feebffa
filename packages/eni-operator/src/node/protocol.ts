// The plugin ↔ node agent protocol: one JSON line each way over the agent's unix socket.
// The plugin stays free of the Kubernetes client; the agent holds the pod watch.
import { createConnection } from 'node:net';

export type AgentRequest =
  | { op: 'grant'; namespace: string; name: string; waitMs: number }
  | { op: 'status' };

/** What the plugin needs to wire one pod. */
export interface WireGrant {
  ip: string;
  eniId: string;
  deviceIndex: number;
  routeTable: number;
  /** Node's primary address (SNAT source). */
  primaryIp: string;
  vpcCidrs: string[];
}

export type AgentResponse =
  | { ok: true; grant?: WireGrant }
  | { ok: false; code: number; msg: string };

export function encode(m: AgentRequest | AgentResponse): string {
  return JSON.stringify(m) + '\n';
}

/** Sends one request and reads one line; rejects after `timeoutMs` (the agent answers before its own wait ends). */
export function ask(socket: string, req: AgentRequest, timeoutMs: number): Promise<AgentResponse> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`node agent at ${socket} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(encode(req)));
    c.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      c.end();
      try {
        resolve(JSON.parse(buf.slice(0, i)) as AgentResponse);
      } catch (err) {
        reject(err as Error);
      }
    });
    c.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`node agent at ${socket} is not reachable: ${err.message}`));
    });
  });
}
