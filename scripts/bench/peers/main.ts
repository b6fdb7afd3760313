// bench:peers page: every backend in this one page, on the same prompt ids (from the query string),
// greedy, N new tokens. Each is loaded and warmed up (one full run) in turn; then the measured runs go
// round-robin (ours, webgpu, wasm, ours, ...) so load from other processes falls on all of them alike.
// The result lands in window.__peers for scripts/bench-peers.ts; a failing backend becomes a failed
// row with its reason and the others go on.
import { gpuPeakBytes, gpuPhase, installGpuBufferCounter } from './gpu-bytes.ts';
import { loadOurs, runOurs } from './ours.ts';
import { type BackendId, type BackendOk, type BackendResult, type PageReport, type RunTiming, runsConsistent } from './report.ts';
import { loadTjs, runTjs, wasmThreads } from './transformers.ts';
import { loadWllama, runWllama } from './wllama.ts';
import { formatBytes } from '../../../src/lib/bytes.ts';

type Outcome = { done: true; report: PageReport } | { done: true; error: string };
const w = window as unknown as { __peers?: Outcome; gc?: () => void };

const q = new URLSearchParams(location.search);
const prompt = (q.get('ids') ?? '').split(',').filter(Boolean).map(Number);
const promptText = q.get('text') ?? '';
const newTokens = Number(q.get('tokens') ?? 64);
const runs = Number(q.get('runs') ?? 3);
const backends = (q.get('backends') ?? 'ours-webgpu,tjs-webgpu,tjs-wasm').split(',') as BackendId[];
const onnxBase = new URL('onnx/', location.href).href; // transformers.js localModelPath; the model id is "peer"
const ggufUrl = new URL('gguf/model.gguf', location.href).href;
const tjsDtype = q.get('dtype') === 'fp16' ? 'fp16' : 'fp32';
let adapterF16 = false;

const log = (msg: string): void => { console.log(`[peers] ${msg}`); };
const message = (e: unknown): string => (e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e));

/** The page's memory with its workers and WASM heaps (cross-origin isolated pages only; Chromium runs
 *  the measurement at its next GC, which --expose-gc lets us force). */
async function pageBytes(): Promise<number | undefined> {
  const p = performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> };
  if (!crossOriginIsolated || !p.measureUserAgentSpecificMemory) return undefined;
  const m = p.measureUserAgentSpecificMemory();
  w.gc?.();
  const timeout = new Promise<undefined>((ok) => setTimeout(() => ok(undefined), 20_000));
  const r = await Promise.race([m, timeout]);
  return r?.bytes;
}

/** JS heap in use after a full GC (needs --js-flags=--expose-gc and --enable-precise-memory-info). */
function heapBytes(): number | undefined {
  w.gc?.();
  return (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
}

interface Live { ok: BackendOk; run: () => Promise<RunTiming> }

async function load(id: BackendId): Promise<Live> {
  const notes: string[] = [];
  let run: () => Promise<RunTiming>;
  const t0 = performance.now();
  if (id === 'ours-webgpu') {
    const m = await loadOurs(new URL('ours/', location.href).href, prompt.length + newTokens);
    run = () => runOurs(m, prompt, newTokens);
    notes.push(`kernels prefill ${m.matmul}, decode ${m.decode}; own accounting ${formatBytes(m.decoder.gpuBytes)} on the GPU after load (weights ${formatBytes(m.decoder.weightBytes)})`);
  } else if (id === 'wllama-wasm' || id === 'wllama-webgpu') {
    const m = await loadWllama(ggufUrl, id === 'wllama-wasm' ? 'wasm' : 'webgpu', prompt.length + newTokens);
    run = () => runWllama(m, promptText, prompt, newTokens);
    notes.push(`GGUF ${formatBytes(m.ggufBytes)}; ${m.multiThread ? `${m.threads} threads` : '1 thread (not cross-origin isolated, or one core to spare)'}`);
  } else {
    const device = id === 'tjs-webgpu' ? 'webgpu' : 'wasm';
    let dtype: 'fp32' | 'fp16' = tjsDtype === 'fp16' ? 'fp16' : 'fp32';
    // transformers.js refuses fp16 on a WebGPU adapter without 'shader-f16' (SwiftShader): the f32
    // export then, when the folder has one, said in the notes (not the same precision).
    if (device === 'webgpu' && dtype === 'fp16' && !adapterF16) {
      const f32 = await fetch(new URL('peer/onnx/model.onnx', onnxBase), { method: 'HEAD' });
      if (!f32.ok) throw new Error("this adapter lacks 'shader-f16', so transformers.js cannot run fp16 on WebGPU, and the folder has no f32 export (onnx/model.onnx) to fall back to");
      dtype = 'fp32';
      notes.push("fp32 export: this adapter lacks 'shader-f16' (transformers.js refuses fp16 on WebGPU without it)");
    }
    notes.push(`ONNX ${dtype}`);
    const model = await loadTjs(onnxBase, 'peer', device, dtype);
    run = () => runTjs(model, prompt, newTokens);
    if (device === 'wasm') notes.push(`ONNX Runtime wasm threads: ${wasmThreads() ?? 'default'}, crossOriginIsolated ${crossOriginIsolated}`);
  }
  const loadMs = performance.now() - t0;
  return { ok: { id, ok: true, runs: [], loadMs, notes }, run };
}

async function main(): Promise<PageReport> {
  if (prompt.length === 0 || prompt.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`bad ?ids= (comma-separated token ids): "${q.get('ids')}"`);
  installGpuBufferCounter();
  const adapter = await navigator.gpu?.requestAdapter();
  const info = adapter?.info;
  adapterF16 = adapter?.features.has('shader-f16') ?? false;
  const adapterText = adapter ? `${info?.description || info?.vendor || 'unknown'}${info?.isFallbackAdapter ? ' (fallback adapter: CPU)' : ''}` : 'no WebGPU adapter';
  const results = new Map<BackendId, BackendResult>();
  const live = new Map<BackendId, Live>();
  for (const id of backends) {
    gpuPhase(id);
    const h0 = heapBytes();
    const p0 = await pageBytes();
    try {
      log(`${id}: loading`);
      const l = await load(id);
      log(`${id}: loaded in ${l.ok.loadMs.toFixed(0)} ms; warm-up run`);
      await l.run();
      const h1 = heapBytes();
      if (h0 !== undefined && h1 !== undefined) l.ok.jsHeapBytes = Math.max(0, h1 - h0);
      const p1 = await pageBytes();
      if (p0 !== undefined && p1 !== undefined) l.ok.pageBytes = Math.max(0, p1 - p0);
      live.set(id, l);
      results.set(id, l.ok);
    } catch (e) {
      log(`${id}: failed: ${message(e)}`);
      results.set(id, { id, ok: false, error: message(e) });
    }
  }
  for (let r = 0; r < runs; r++) {
    for (const [id, l] of live) {
      gpuPhase(id);
      try {
        const t = await l.run();
        l.ok.runs.push(t);
        log(`${id}: run ${r + 1}/${runs}: TTFT ${t.ttftMs.toFixed(1)} ms, decode ${((t.ids.length - 1) / (t.decodeMs / 1000)).toFixed(2)} tok/s`);
      } catch (e) {
        log(`${id}: run ${r + 1} failed: ${message(e)}`);
        results.set(id, { id, ok: false, error: `measured run ${r + 1}: ${message(e)}` });
        live.delete(id);
      }
    }
  }
  for (const [id, l] of live) {
    l.ok.gpuPeakBytes = gpuPeakBytes(id);
    const bad = runsConsistent(l.ok.runs);
    if (bad) l.ok.notes.push(`greedy runs disagree: ${bad}`);
    const n = l.ok.runs[0]?.ids.length;
    if (n !== newTokens) l.ok.notes.push(`made ${n} tokens, asked for ${newTokens}`);
  }
  return {
    adapter: `${adapterText}${adapter ? `; shader-f16 ${adapterF16 ? 'yes' : 'no'}` : ''}`, userAgent: navigator.userAgent, crossOriginIsolated,
    promptTokens: prompt.length, newTokens, results: backends.map((id) => results.get(id)!),
  };
}

main().then(
  (report) => { w.__peers = { done: true, report }; log('done'); },
  (e) => { w.__peers = { done: true, error: message(e) }; log(`failed: ${message(e)}`); },
);
