// The images `npm run package` builds: reproducible, no shell and no npm, non-root with a read-only
// root, labelled; and each one run with runc (no daemon) against the testbed until /readyz.
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOperatorImage } from '../../../scripts/package/image.ts';
import { runcBinary, runContainer, runToEnd, unpackImage } from '../../../scripts/package/runc.ts';
import { TARGETS, target } from '../../../scripts/package/targets.ts';
import { freePort, waitFor } from '../../src/testing.ts';
import { KUBECTL, env, must, run, shipAll } from './ship-harness.ts';
import type { Shipped } from '../../../scripts/package/main.ts';

let shipped: Shipped[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'kube-iaas-ship-images-'));

beforeAll(async () => {
  shipped = await shipAll();
}, 1_800_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SHELLS_AND_PACKAGE_MANAGERS = /(^|\/)(sh|bash|dash|ash|busybox|npm|npx|corepack|yarn|apt|apt-get|dpkg|apk)$|node_modules\/npm\//;

describe('operator images', () => {
  it('two builds of the same tree give the same digest, byte for byte', () => {
    const t = target('lb-operator');
    const digests: string[] = [];
    const bytes: Buffer[] = [];
    for (const d of ['a', 'b']) {
      process.env.KUBE_IAAS_DIST_DIR = join(scratch, d);
      // No layer cache: each build compresses every layer itself.
      const img = buildOperatorImage(t, { layerCache: false });
      digests.push(img.digest);
      bytes.push(readFileSync(img.file));
    }
    delete process.env.KUBE_IAAS_DIST_DIR;
    expect(digests[0]).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(digests[1]).toBe(digests[0]);
    expect(bytes[1]!.equals(bytes[0]!)).toBe(true);
    // The one in dist/ came through the layer cache: the same image.
    expect(shipped.find((s) => s.name === 'lb-operator')?.digest).toBe(digests[0]);
  });

  it.each(TARGETS.map((t) => t.name))('%s: no shell, no npm, non-root, labelled, under 120 MB to pull', (name) => {
    const s = shipped.find((x) => x.name === name)!;
    const img = unpackImage(s.image);
    try {
      expect(img.files.filter((f) => SHELLS_AND_PACKAGE_MANAGERS.test(f.replace(/\/$/, '')))).toEqual([]);
      expect(img.files).toContain('usr/local/bin/node');
      expect(img.files).toContain('opt/kube-iaas/operator.mjs');
      expect(img.files).toContain('opt/kube-iaas/operator.mjs.map');
      expect(img.config.User).toBe('65532:65532');
      expect(img.config.Labels['org.opencontainers.image.version']).toBe(s.version);
      expect(img.config.Labels['org.opencontainers.image.source']).toMatch(/^https:\/\//);
      expect(s.compressedMB).toBeLessThan(120);
      for (const e of target(name).entries) expect(img.files).toContain(`opt/kube-iaas/${e.name}.mjs`);
    } finally {
      img.remove();
    }
  });
});

describe('operator images under runc (as root, no daemon)', () => {
  const runc = runcBinary();
  // The testbed's kubeconfig (certificates inline) where the container's user 65532 may read it.
  const kcDir = mkdtempSync(join(tmpdir(), 'kube-iaas-kc-'));
  const kubeconfig = join(kcDir, 'kubeconfig');
  copyFileSync(env.kubeconfig, kubeconfig);
  chmodSync(kcDir, 0o755);
  chmodSync(kubeconfig, 0o644);
  afterAll(() => rmSync(kcDir, { recursive: true, force: true }));

  it.each(TARGETS.map((t) => t.name))('%s: --version, then the operator against the testbed until /readyz', async (name) => {
    const s = shipped.find((x) => x.name === name)!;
    const img = unpackImage(s.image);
    try {
      const v = await runToEnd(runc, img, { args: ['--version'] });
      expect(v).toEqual({ code: 0, output: `${name} operator ${s.version}` });

      // A Lease someone else holds: the container comes up as a warm standby (ready, reconciling
      // nothing), so it changes nothing in the testbed that other tests see.
      const lease = `ship-image-test-${name}`;
      const now = new Date().toISOString().replace('Z', '000Z');
      must(KUBECTL, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: lease, namespace: 'kube-system' }, spec: { holderIdentity: 'ship-image-test', leaseDurationSeconds: 3600, acquireTime: now, renewTime: now } }));
      const port = await freePort();
      const c = runContainer(runc, img, {
        args: [`--metrics-bind-address=127.0.0.1:${port}`, '--leader-elect=true', `--leader-elect-id=${lease}`, '--leader-elect-namespace=kube-system'],
        env: { ...Object.fromEntries(['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EMULATOR_QUIRKS', 'CLUSTER_NAME'].map((k) => [k, env.env[k] ?? ''])), KUBECONFIG: kubeconfig, LOG_LEVEL: 'info' },
        mounts: [kcDir],
      });
      try {
        await waitFor(`${name} in its container ready`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 120_000, 500).catch((e: unknown) => {
          throw new Error(`${String(e)}\n${c.output.slice(-30).join('\n')}`, { cause: e });
        });
        // It runs as the image's user, on a read-only root.
        const pid = await waitFor('the container process', () => c.pid(), 10_000);
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3)).toEqual(['/usr/local/bin/node', '--enable-source-maps', '/opt/kube-iaas/operator.mjs']);
        expect(/^Uid:\s+65532\b/m.test(status)).toBe(true);
        const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
        expect(root?.split(' ')[5]?.split(',')).toContain('ro');
      } finally {
        c.remove();
        run(KUBECTL, ['delete', 'lease', lease, '-n', 'kube-system', '--ignore-not-found']);
      }
    } finally {
      img.remove();
    }
  });
});
