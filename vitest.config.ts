import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end files each spawn sidecars and open many sockets; two at a time fits a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
