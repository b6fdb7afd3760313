import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { serveModels } from './scripts/vite-serve-models.ts';

// COOP/COEP only unlock multi-threaded WASM for ONNX Runtime; the app must also work without them
// (static hosts such as GitHub Pages cannot set headers), so nothing depends on crossOriginIsolated.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  plugins: [svelte(), serveModels()], // serveModels: models/ (the bundled tiny model) at /models/
  server: { host: '127.0.0.1', headers: isolation, fs: { allow: ['.'] } },
  preview: { host: '127.0.0.1', headers: isolation },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
});
