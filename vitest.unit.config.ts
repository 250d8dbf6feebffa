import { defineConfig } from 'vitest/config';

// Unit tests: no testbed, no network. Each package runs them with `--dir test/unit` from its own
// folder; the JSON report feeds the CI summary line.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/unit.json' },
  },
});
