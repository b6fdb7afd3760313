import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser. WebGPU in headless Chromium needs only
// --enable-unsafe-webgpu; the rest keep it off the (closed) network.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
// E2E_PORT / E2E_OUTDIR let several checkouts (or helpers) run end-to-end tests side by side.
const PORT = Number(process.env.E2E_PORT ?? 4173);
const OUTDIR = process.env.E2E_OUTDIR ?? 'dist';

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 120_000,
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
