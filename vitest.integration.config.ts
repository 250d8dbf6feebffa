import { defineConfig } from 'vitest/config';

// Integration tests run against the real testbed (kube-apiserver, controller-manager, scheduler,
// etcd, moto, node simulator), started once per run by the global setup or reused when running.
export default defineConfig({
  test: {
    include: ['packages/*/test/integration/**/*.test.ts', 'testbed/test/integration/**/*.test.ts'],
    globalSetup: ['testbed/src/vitest-global-setup.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/integration.json' },
  },
});
