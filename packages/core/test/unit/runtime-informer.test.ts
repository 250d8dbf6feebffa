/**
 * The informer's reaction to what an API server can do to a watch, scripted by a local HTTP
 * listener: a watch stream that ends (resume from the last resourceVersion), a 410 Gone (relist and
 * reconcile the cache: deletes for objects gone, adds for new ones), and a failing request (back
 * off and retry, never exit).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer, KubeClient, resources, type KubeObject } from '../../src/runtime/index.ts';

type Step = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let server: Server | undefined;
const open: ServerResponse[] = [];

async function serve(steps: Step[]): Promise<{ client: KubeClient; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    requests.push(
      q.get('watch') ? `watch rv=${q.get('resourceVersion')}${q.get('allowWatchBookmarks') ? ' bookmarks' : ''}` : `list limit=${q.get('limit')}`,
    );
    const step = steps.shift();
    if (!step) {
      // nothing scripted: hold the watch open until the test ends
      res.writeHead(200, { 'Content-Type': 'application/json' });
      open.push(res);
      return;
    }
    step(req, res, url);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { client: new KubeClient(kc), requests };
}

afterEach(async () => {
  for (const r of open.splice(0)) r.end();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const cm = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const list = (rv: string, items: KubeObject[]): Step => (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: rv }, items }),
  );
};
const watchEvents = (events: { type: string; object: unknown }[], end: boolean): Step => (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const e of events) res.write(`${JSON.stringify(e)}\n`);
  if (end) res.end();
  else open.push(res);
};
const failWith = (status: number): Step => (_req, res) => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: status }));
};

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Informer against a scripted API server', () => {
  it('resumes a closed watch from its resourceVersion and relists after 410 Gone', async () => {
    const { client, requests } = await serve([
      list('10', [cm('a', '5'), cm('b', '6')]),
      watchEvents([{ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', ...cm('c', '11') } }], true),
      watchEvents([{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }], true),
      // while the informer was away: a deleted, b unchanged, c changed, d new
      list('30', [cm('b', '6'), cm('c', '25'), cm('d', '28')]),
    ]);
    const events: string[] = [];
    const inf = new Informer<KubeObject>(client, resources.ConfigMap, { namespace: 'ns', backoff: { baseMs: 10, maxMs: 10 } });
    inf.on({
      add: (o) => events.push(`add ${o.metadata?.name}`),
      update: (o, old) => events.push(`update ${o.metadata?.name} ${old?.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`),
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    inf.start();
    try {
      expect(await inf.waitForSync(5000)).toBe(true);
      await until(() => requests.length >= 5);
      await until(() => inf.store.has('ns/d'));
      expect(requests).toEqual([
        'list limit=500',
        'watch rv=10 bookmarks',
        'watch rv=11 bookmarks', // resumed where it left off, no relist
        'list limit=500', // 410 Gone: relist
        'watch rv=30 bookmarks',
      ]);
      expect(events).toEqual(['add a', 'add b', 'add c', 'delete a', 'update c 11->25', 'add d']);
      expect(inf.keys().sort()).toEqual(['ns/b', 'ns/c', 'ns/d']);
      expect(inf.requests).toEqual({ list: 2, watch: 3 });
    } finally {
      await inf.stop();
    }
  });

  it('backs off and retries when list or watch fail, and never exits', async () => {
    const { client, requests } = await serve([
      failWith(503),
      failWith(500),
      list('10', [cm('a', '5')]),
      failWith(500), // the watch fails: back off, then resume from rv 10 without a relist
    ]);
    const inf = new Informer<KubeObject>(client, resources.ConfigMap, { namespace: 'ns', backoff: { baseMs: 20, maxMs: 40 } });
    inf.start();
    try {
      expect(await inf.waitForSync(5000)).toBe(true);
      await until(() => requests.length >= 5);
      expect(requests).toEqual(['list limit=500', 'list limit=500', 'list limit=500', 'watch rv=10 bookmarks', 'watch rv=10 bookmarks']);
      expect(inf.keys()).toEqual(['ns/a']);
    } finally {
      await inf.stop();
    }
  });
});
