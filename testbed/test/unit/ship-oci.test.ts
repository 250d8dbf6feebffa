import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flag, runtimeFlags } from '@kube-iaas/core/runtime';
import { buildImage } from '../../../scripts/package/oci.ts';
import { gzip, sha256, tar, type TarEntry } from '../../../scripts/package/tar.ts';
import { CHART_MANAGED, chartFlags, flagSchema } from '../../../scripts/package/chart-values.ts';

const files: TarEntry[] = [
  { path: 'usr/local/bin/node', type: 'file', mode: 0o755, data: Buffer.from('#!binary') },
  { path: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:0::/:/sbin/nologin\n') },
  { path: 'tmp', type: 'dir', mode: 0o1777 },
  { path: 'lib64/ld-linux-x86-64.so.2', type: 'symlink', target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
];

describe('deterministic tar and gzip', () => {
  it('gives the same bytes whatever the order of the entries', () => {
    const a = tar(files);
    const b = tar([...files].reverse());
    expect(a.equals(b)).toBe(true);
    expect(sha256(gzip(a))).toBe(sha256(gzip(b)));
  });

  it('writes what GNU tar reads: parents first, modes, owner 0, mtime 0, the symlink', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ship-tar-'));
    try {
      writeFileSync(join(dir, 'l.tar'), tar(files));
      const listing = execFileSync('tar', ['-tvf', join(dir, 'l.tar'), '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n');
      expect(listing.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual([
        'etc/',
        'etc/passwd',
        'lib64/',
        'lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
        'tmp/',
        'usr/',
        'usr/local/',
        'usr/local/bin/',
        'usr/local/bin/node',
      ]);
      expect(listing.every((l) => l.split(/\s+/)[1] === '0/0')).toBe(true);
      expect(listing.find((l) => l.endsWith('tmp/'))).toMatch(/^drwxrwxrwt/);
      expect(listing.find((l) => l.endsWith('node'))).toMatch(/^-rwxr-xr-x .* 1970-01-01 00:00 /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a duplicate path instead of letting the last one win silently', () => {
    expect(() => tar([files[0]!, files[0]!])).toThrow(/duplicate entry usr\/local\/bin\/node/);
  });
});

describe('OCI image layout', () => {
  const cfg = { user: '65532:65532', entrypoint: ['/usr/local/bin/node'], env: ['PATH=/usr/local/bin'], workingDir: '/', labels: { 'org.opencontainers.image.version': '1.2.3' }, created: '1970-01-01T00:00:00Z' };

  it('same layers and config give the same digest; a changed label gives another', () => {
    const a = buildImage([{ name: 'base', entries: files }], cfg, '1.2.3');
    const b = buildImage([{ name: 'base', entries: [...files].reverse() }], cfg, '1.2.3');
    expect(b.digest).toBe(a.digest);
    expect(b.tar.equals(a.tar)).toBe(true);
    const c = buildImage([{ name: 'base', entries: files }], { ...cfg, labels: { 'org.opencontainers.image.version': '1.2.4' } }, '1.2.4');
    expect(c.digest).not.toBe(a.digest);
  });
});

describe('chart flags from the flag declarations', () => {
  it('keeps the binary defaults and limits, and leaves out what the chart sets itself', () => {
    const { values, schema } = chartFlags({ ...runtimeFlags, 'max-things': flag.int({ description: 'x', default: 3, min: 1, max: 9 }), every: flag.duration({ description: 'y', default: 300_000 }), ports: flag.list({ description: 'z', default: [] }) });
    for (const k of CHART_MANAGED) expect(values).not.toHaveProperty(k);
    expect(values).toMatchObject({ 'max-things': 3, every: '5m', ports: [], workers: 4, 'log-level': 'info', 'leader-elect-lease-duration': '15s' });
    const props = (schema as { properties: Record<string, Record<string, unknown>> }).properties;
    expect(props['max-things']).toMatchObject({ type: 'integer', minimum: 1, maximum: 9 });
    expect(props['log-level']).toMatchObject({ enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] });
    expect(new RegExp(props.every!.pattern as string).test('1h30m')).toBe(true);
    expect(new RegExp(props.every!.pattern as string).test('soon')).toBe(false);
    expect((schema as { additionalProperties: boolean }).additionalProperties).toBe(false);
  });

  it('carries a string pattern only when JSON schema can read it', () => {
    expect(flagSchema('a', flag.string({ description: 'd', pattern: /^[a-z]+$/ }))).toMatchObject({ pattern: '^[a-z]+$' });
    expect(flagSchema('a', flag.string({ description: 'd', pattern: /^[a-z]+$/i }))).not.toHaveProperty('pattern');
  });
});
