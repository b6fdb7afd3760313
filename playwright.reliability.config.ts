import { defineConfig } from '@playwright/test';
import { BASE_ARGS, CHROMIUM_PATH } from './playwright.config.ts';

// The reliability campaign (npm run test:reliability [-- --full]): kill cycles mid-import, fuzzed
// import lines, hostile formulas / trace texts / links, quota failures, keys on disk. Counts come
// from RB_RELIABILITY=small|full (scripts/reliability.mjs sets it); each spec prints its figures.
const PORT = Number(process.env.E2E_PORT ?? 4174);
const OUTDIR = process.env.E2E_OUTDIR ?? 'dist-reliability';
const full = process.env.RB_RELIABILITY === 'full';

export default defineConfig({
  testDir: 'tests/reliability',
  timeout: full ? 900_000 : 240_000,
  expect: { timeout: 30_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: [...BASE_ARGS, '--enable-unsafe-webgpu'] },
    trace: 'off',
  },
  webServer: {
    command: `npx vite build --outDir ${OUTDIR} --emptyOutDir --logLevel warn && npx vite preview --outDir ${OUTDIR} --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 180_000,
  },
});
