import { defineConfig } from 'vitest/config';


export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['tests/setup/matchers.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'kernel',
          include: ['tests/kernel/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          execArgv: [],
          setupFiles: ['tests/setup/matchers.ts'],
          
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
