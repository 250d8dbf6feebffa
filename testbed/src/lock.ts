import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, sleep } from './proc.ts';

/**
 * Serialises `up`, `down` and restarts of one testbed directory across processes: two test runs
 * starting at once would otherwise launch two etcds on one data directory. A lock whose holder
 * died is taken over.
 */
export async function withStateLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 1_800_000): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim() || '0');
      if (holder && !isAlive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`testbed in ${dir} is locked by pid ${holder}`, { cause: err });
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
