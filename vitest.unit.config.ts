import { defineConfig } from 'vitest/config';

// Unit tests: no testbed, no network. Each package runs them with `--dir test/unit`.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
