// bench:peers, pure part: what the page measures, how one backend's runs are summarised (medians),
// whether two id sequences agree, and the printed table and ratio line. No DOM, no GPU: unit-tested
// in Node (tests/unit/bench-peers-report.test.ts), imported by the page and by the Node script.
import { formatBytes } from '../../../src/lib/bytes.ts';

export type BackendId = 'ours-webgpu' | 'tjs-webgpu' | 'tjs-wasm' | 'wllama-wasm' | 'wllama-webgpu';

export const BACKEND_LABELS: Record<BackendId, string> = {
  'ours-webgpu': 'ours (WebGPU)',
  'tjs-webgpu': 'transformers.js webgpu',
  'tjs-wasm': 'transformers.js wasm',
  'wllama-wasm': 'wllama wasm (llama.cpp)',
  'wllama-webgpu': 'wllama webgpu (llama.cpp)',
};

/** Backends that run on the CPU (WASM): their GPU column is n/a, and they are the CPU-only user's alternatives. */
export const CPU_BACKENDS: readonly BackendId[] = ['tjs-wasm', 'wllama-wasm'];

/** One greedy generation: prompt in, `ids.length` new tokens out. */
export interface RunTiming {
  /** From the call to the first new token in hand (prefill + first sample + readback). */
  ttftMs: number;
  /** From the first new token to the last (ids.length - 1 decode steps). */
  decodeMs: number;
  promptTokens: number;
  ids: number[];
}

export interface BackendOk {
  id: BackendId;
  ok: true;
  runs: RunTiming[];
  loadMs: number;
  /** Peak bytes of live GPU buffers the backend created (createBuffer minus destroy); undefined: none. */
  gpuPeakBytes?: number;
  /** JS heap retained after load + warm-up (performance.memory, after a GC); undefined: not measurable. */
  jsHeapBytes?: number;
  /** The page's memory with its workers and WASM heaps retained after load + warm-up
   *  (performance.measureUserAgentSpecificMemory, cross-origin isolated pages only); undefined: not measured. */
  pageBytes?: number;
  notes: string[];
}

export interface BackendFailed { id: BackendId; ok: false; error: string }

export type BackendResult = BackendOk | BackendFailed;

export interface PageReport {
  adapter: string;
  userAgent: string;
  crossOriginIsolated: boolean;
  promptTokens: number;
  newTokens: number;
  results: BackendResult[];
}

export interface Summary { ttftMs: number; prefillTps: number; decodeTps: number }

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Each figure is the median over the runs on its own (a slow prefill does not pick the decode figure). */
export function summarise(runs: readonly RunTiming[]): Summary {
  return {
    ttftMs: median(runs.map((r) => r.ttftMs)),
    prefillTps: median(runs.map((r) => r.promptTokens / (r.ttftMs / 1000))),
    decodeTps: median(runs.filter((r) => r.ids.length > 1).map((r) => (r.ids.length - 1) / (r.decodeMs / 1000))),
  };
}

/** Index of the first position where the sequences differ (a length difference counts there); -1: identical. */
export function firstDivergence(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** "same 64/64", or where `b` leaves the reference `a`. */
export function agreement(a: readonly number[], b: readonly number[]): string {
  const d = firstDivergence(a, b);
  if (d < 0) return `same ${a.length}/${a.length}`;
  if (d >= Math.min(a.length, b.length)) return `same ${d}, then lengths ${a.length} vs ${b.length}`;
  return `diverge at ${d} (${a[d]} vs ${b[d]})`;
}

/** Runs of one backend should give one sequence (greedy); names the first run that does not. */
export function runsConsistent(runs: readonly RunTiming[]): string | undefined {
  for (let i = 1; i < runs.length; i++) {
    const d = firstDivergence(runs[0].ids, runs[i].ids);
    if (d >= 0) return `run ${i + 1} differs from run 1 at token ${d}`;
  }
  return undefined;
}

const bytesOr = (b: number | undefined, none: string): string => (b === undefined ? none : formatBytes(b));

/** The table: one row per backend, failed ones with their reason; ids compared with ours. */
export function formatTable(results: readonly BackendResult[]): string {
  const ours = results.find((r): r is BackendOk => r.id === 'ours-webgpu' && r.ok);
  const head = ['backend', 'TTFT ms', 'prefill tok/s', 'decode tok/s', 'GPU peak', 'JS heap', 'page mem', 'load ms', 'ids vs ours'];
  const rows: string[][] = [];
  const failed: string[] = [];
  for (const r of results) {
    if (!r.ok) {
      rows.push([BACKEND_LABELS[r.id], 'FAILED', '-', '-', '-', '-', '-', '-', '-']);
      failed.push(`${BACKEND_LABELS[r.id]} failed: ${r.error}`);
      continue;
    }
    const s = summarise(r.runs);
    const oursRan = results.some((x) => x.id === 'ours-webgpu');
    const ids = r.id === 'ours-webgpu' ? 'reference' : ours ? agreement(ours.runs[0].ids, r.runs[0].ids) : oursRan ? 'n/a (ours failed)' : 'n/a (ours not run)';
    rows.push([
      BACKEND_LABELS[r.id], s.ttftMs.toFixed(1), s.prefillTps.toFixed(1), s.decodeTps.toFixed(2),
      bytesOr(r.gpuPeakBytes, CPU_BACKENDS.includes(r.id) ? 'n/a (CPU)' : 'n/a'), bytesOr(r.jsHeapBytes, 'n/a'), bytesOr(r.pageBytes, 'n/a'), r.loadMs.toFixed(0), ids,
    ]);
  }
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((v, c) => (c === 0 || c === cells.length - 1 ? v.padEnd(width[c]) : v.padStart(width[c]))).join('  ').trimEnd();
  const notes = results.flatMap((r) => (r.ok ? r.notes.map((n) => `${BACKEND_LABELS[r.id]}: ${n}`) : []));
  return [line(head), ...rows.map(line), ...failed, ...notes].join('\n');
}

export function decodeRatio(results: readonly BackendResult[]): { ratio: number } | { reason: string } {
  const get = (id: BackendId) => results.find((r) => r.id === id);
  const ours = get('ours-webgpu');
  const tjs = get('tjs-webgpu');
  for (const r of [ours, tjs]) if (r && !r.ok) return { reason: `${BACKEND_LABELS[r.id]} failed: ${r.error}` };
  if (!ours?.ok || !tjs?.ok) return { reason: `no result for ${!ours ? BACKEND_LABELS['ours-webgpu'] : BACKEND_LABELS['tjs-webgpu']}` };
  const a = summarise(ours.runs).decodeTps;
  const b = summarise(tjs.runs).decodeTps;
  if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) return { reason: `no decode figure (ours ${a}, transformers.js webgpu ${b} tok/s)` };
  return { ratio: a / b };
}

/** The line scripts parse: keep it exactly in this form. */
export function ratioLine(ratio: number): string {
  return `decode ratio ours/transformers.js-webgpu: ${ratio.toFixed(2)}`;
}

/** The CPU-only user's comparison: ours on this adapter against the fastest WASM engine that ran
 *  (decode tok/s); undefined when ours or every WASM engine is missing. */
export function cpuComparison(results: readonly BackendResult[]): { ours: number; best: BackendId; theirs: number; ratio: number } | undefined {
  const ours = results.find((r): r is BackendOk => r.id === 'ours-webgpu' && r.ok);
  if (!ours) return undefined;
  let best: { id: BackendId; tps: number } | undefined;
  for (const r of results) {
    if (!r.ok || !CPU_BACKENDS.includes(r.id)) continue;
    const tps = summarise(r.runs).decodeTps;
    if (Number.isFinite(tps) && tps > 0 && (!best || tps > best.tps)) best = { id: r.id, tps };
  }
  if (!best) return undefined;
  const a = summarise(ours.runs).decodeTps;
  return { ours: a, best: best.id, theirs: best.tps, ratio: a / best.tps };
}

/** A shaped model measured at fewer layers than the real one (make_onnx.py --shape --layers N). */
export interface ShapeInfo {
  /** e.g. "qwen3-0.6b" */ model: string;
  layers: number;
  fullLayers: number;
  /** weight bytes read per decode step (every layer + final norm + LM head) at `layers` and at `fullLayers` */
  bytesMeasured: number;
  bytesFull: number;
}

/** Weight bytes one decode step reads: per-layer weights x layers + the LM head (the embedding when tied). */
export function stepWeightBytes(c: { hidden: number; inter: number; heads: number; kvHeads: number; headDim: number; vocab: number; qkvBias: boolean; qkNorm: boolean }, layers: number, bytesPerWeight = 2): number {
  const { hidden: C, inter: F, heads: H, kvHeads: KV, headDim: D, vocab: V } = c;
  const attn = C * H * D + 2 * C * KV * D + H * D * C + (c.qkvBias ? H * D + 2 * KV * D : 0) + (c.qkNorm ? 2 * D : 0);
  const perLayer = attn + 3 * C * F + 2 * C;
  return bytesPerWeight * (layers * perLayer + C + V * C);
}

/** Full-depth estimate of every backend's figures: times scaled by the weight bytes a step reads
 *  (a bandwidth model: decode and prefill cost in proportion to the weights they stream). Every
 *  backend gets the same factor, so ratios between backends are the measured ones. */
export function extrapolateTable(results: readonly BackendResult[], shape: ShapeInfo): string {
  const f = shape.bytesFull / shape.bytesMeasured;
  const lines = [`estimate at ${shape.fullLayers} layers (measured ${shape.layers}; times x ${f.toFixed(2)} = weight bytes per step ${formatBytes(shape.bytesFull)} / ${formatBytes(shape.bytesMeasured)}):`];
  for (const r of results) {
    if (!r.ok) continue;
    const s = summarise(r.runs);
    lines.push(`  ${BACKEND_LABELS[r.id].padEnd(26)} TTFT ${(s.ttftMs * f).toFixed(0).padStart(8)} ms   prefill ${(s.prefillTps / f).toFixed(1).padStart(8)} tok/s   decode ${(s.decodeTps / f).toFixed(2).padStart(8)} tok/s`);
  }
  return lines.join('\n');
}

/** The line before the ratio line: which model (shape) the ratio is for. */
export function modelLine(name: string, shape: ShapeInfo | undefined, precision: string): string {
  const depth = shape ? `${shape.model} shape, ${shape.layers}/${shape.fullLayers} layers measured (random weights)` : 'all layers';
  return `ratio for: ${name} (${depth}; ${precision})`;
}
