// The agent's unix socket: answers each plugin request with the pod's grant, waiting (bounded by the
// plugin's own wait) for the pod watch to deliver one.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode } from '../cni.ts';
import { encode, type AgentRequest, type AgentResponse } from '../protocol.ts';
import type { ViewSource } from './sources.ts';
import { decide, waitMessage } from './view.ts';

export interface GrantServerDeps {
  source: ViewSource;
  /** ENI ID → why its link is unusable (re-checked by the caller on each view change). */
  linkProblem: (eniId: string) => string | undefined;
  /** Upper bound on any wait, whatever the plugin asks. */
  maxWaitMs: number;
}

export function answer(deps: GrantServerDeps, req: AgentRequest): Promise<AgentResponse> {
  if (req.op === 'status') return Promise.resolve({ ok: true });
  const pod = `${req.namespace}/${req.name}`;
  const waitMs = Math.min(Math.max(0, req.waitMs), deps.maxWaitMs);
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    let unsubscribe = (): void => {};
    const tryNow = (): boolean => {
      if (settled) return true;
      const view = deps.source.current();
      const d = view ? decide(view, pod, deps.linkProblem) : { kind: 'wait' as const };
      if (d.kind === 'wait') return false;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      resolve(d.kind === 'grant' ? { ok: true, grant: d.grant } : { ok: false, code: d.code, msg: d.msg });
      return true;
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      unsubscribe();
      resolve({ ok: false, code: ErrorCode.noGrant, msg: waitMessage(deps.source.current(), pod, Date.now() - started) });
    }, waitMs);
    if (!tryNow()) unsubscribe = deps.source.onChange(() => void tryNow());
  });
}

export function startGrantServer(path: string, deps: GrantServerDeps): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const server = createServer((sock: Socket) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      let req: AgentRequest;
      try {
        req = JSON.parse(buf.slice(0, i)) as AgentRequest;
      } catch {
        sock.end(encode({ ok: false, code: ErrorCode.decodeFailure, msg: 'request is not JSON' }));
        return;
      }
      void answer(deps, req).then((res) => sock.end(encode(res)));
    });
    sock.on('error', () => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}
