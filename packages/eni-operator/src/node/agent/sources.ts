// Where the agent learns its node's pool and the grants. Phase 1 has a file source (tests in network
// namespaces, no cluster needed) and a Kubernetes source (pods of this node + this node's EniPool).
import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import type { NodeView } from './view.ts';

export interface ViewSource {
  current(): NodeView | undefined;
  /** Returns the unsubscribe. */
  onChange(cb: () => void): () => void;
  stop(): void;
}

/** A JSON file holding a NodeView, re-read when its mtime changes (polled every 100 ms). */
export function fileSource(path: string): ViewSource {
  let view: NodeView | undefined;
  let mtime = -1;
  const listeners: (() => void)[] = [];
  // copies the list: a listener may unsubscribe while we iterate
  const load = (): void => {
    try {
      const m = statSync(path).mtimeMs;
      if (m === mtime) return;
      mtime = m;
      view = JSON.parse(readFileSync(path, 'utf8')) as NodeView;
      for (const l of [...listeners]) l();
    } catch {
      // absent or half-written: keep the last good view; the next poll tries again
    }
  };
  load();
  watchFile(path, { interval: 100 }, load);
  return {
    current: () => {
      load();
      return view;
    },
    onChange: (cb) => {
      listeners.push(cb);
      return () => {
        const i = listeners.indexOf(cb);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    stop: () => unwatchFile(path),
  };
}
