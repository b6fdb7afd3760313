// bench:peers, pure part: what the page measures, how one backend's runs are summarised (medians),
// whether two id sequences agree, and the printed table and ratio line. No DOM, no GPU: unit-tested
// in Node (tests/unit/bench-peers-report.test.ts), imported by the page and by the Node script.
import { formatBytes } from '../../../src/lib/bytes.ts';

export type BackendId = 'ours-webgpu' | 'tjs-webgpu' | 'tjs-wasm';

export const BACKEND_LABELS: Record<BackendId, string> = {
  'ours-webgpu': 'ours (WebGPU)',
  'tjs-webgpu': 'transformers.js webgpu',
  'tjs-wasm': 'transformers.js wasm',
};

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
  const head = ['backend', 'TTFT ms', 'prefill tok/s', 'decode tok/s', 'GPU peak', 'JS heap', 'load ms', 'ids vs ours'];
  const rows: string[][] = [];
  const failed: string[] = [];
  for (const r of results) {
    if (!r.ok) {
      rows.push([BACKEND_LABELS[r.id], 'FAILED', '-', '-', '-', '-', '-', '-']);
      failed.push(`${BACKEND_LABELS[r.id]} failed: ${r.error}`);
      continue;
    }
    const s = summarise(r.runs);
    const ids = r.id === 'ours-webgpu' ? 'reference' : ours ? agreement(ours.runs[0].ids, r.runs[0].ids) : 'n/a (ours failed)';
    rows.push([
      BACKEND_LABELS[r.id], s.ttftMs.toFixed(1), s.prefillTps.toFixed(1), s.decodeTps.toFixed(2),
      bytesOr(r.gpuPeakBytes, r.id === 'tjs-wasm' ? 'n/a (CPU)' : 'n/a'), bytesOr(r.jsHeapBytes, 'n/a'), r.loadMs.toFixed(0), ids,
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
