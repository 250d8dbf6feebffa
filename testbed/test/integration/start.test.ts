// `npm start` supervises like a Deployment: a SIGKILLed operator comes back (logged, counted), a taken
// metrics port is replaced by a free one, and SIGTERM after a kill stops everything and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot, testbedEnv, waitFor } from '../../src/testing.ts';

let start: ChildProcess | undefined;
let squatter: Server | undefined;
const out: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const line = (re: RegExp) => out.find((l) => re.test(l));

afterAll(() => {
  if (start && start.exitCode === null && start.signalCode === null) start.kill('SIGKILL');
  squatter?.close();
});

describe('npm start supervision', () => {
  it('moves off a taken port, restarts a killed operator, and stops everything on SIGTERM after a kill', async () => {
    const port = await freePort();
    squatter = createServer();
    await new Promise<void>((r) => squatter!.listen(port, '127.0.0.1', () => r()));
    start = spawn(process.execPath, [join(repoRoot(), 'scripts', 'start.ts')], {
      env: { ...process.env, ...testbedEnv().env, KUBE_IAAS_START_OPERATORS: 'lb-operator', KUBE_IAAS_START_PORT_BASE: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean));
    start.stdout!.on('data', keep);
    start.stderr!.on('data', keep);

    expect(await waitFor('the Node line', () => line(/^\[start\] operators run on Node v24\./), 30_000)).toContain(process.execPath);
    const moved = await waitFor('the port message', () => line(new RegExp(`metrics port ${port} is taken; serving .* on 127\\.0\\.0\\.1:(\\d+)`)), 30_000);
    const newPort = Number(/127\.0\.0\.1:(\d+)/.exec(moved)![1]);
    expect(newPort).not.toBe(port);
    await waitFor('lb-operator ready on the new port', async () => (await fetch(`http://127.0.0.1:${newPort}/readyz`)).ok, 120_000, 500);

    const firstPid = Number(/pid (\d+)/.exec(line(/lb-operator: pid \d+/)!)![1]);
    process.kill(firstPid, 'SIGKILL');
    await waitFor('the restart line', () => line(/lb-operator: exited \(SIGKILL\); restart 1 in 1s/), 30_000);
    const second = await waitFor('a second pid', () => out.filter((l) => /lb-operator: pid \d+/.test(l))[1], 30_000);
    const secondPid = Number(/pid (\d+)/.exec(second)![1]);
    expect(secondPid).not.toBe(firstPid);
    await waitFor('restarted lb-operator ready', async () => (await fetch(`http://127.0.0.1:${newPort}/readyz`)).ok, 120_000, 500);

    // The reported hang: SIGKILL an operator, then SIGTERM npm start before (or while) it restarts.
    process.kill(secondPid, 'SIGKILL');
    await waitFor('the second exit line', () => line(/restart 2 in 2s/), 30_000);
    const exited = new Promise<number | null>((r) => start!.once('exit', (code) => r(code)));
    start.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    expect(code).toBe(0);
    expect(line(/\[start\] restarts: lb-operator 2/)).toBeDefined();
    expect(alive(firstPid) || alive(secondPid)).toBe(false);
  });
});
