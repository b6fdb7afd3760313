// bench:peers' pure helpers: medians per figure, ids agreement, the table and the exact ratio line
// that scripts parse.
import { describe, expect, it } from 'vitest';
import { agreement, type BackendResult, cpuComparison, decodeRatio, extrapolateTable, firstDivergence, formatTable, median, modelLine, ratioLine, runsConsistent, type ShapeInfo, stepWeightBytes, summarise, type RunTiming } from '../../scripts/bench/peers/report.ts';

const run = (ttftMs: number, decodeMs: number, ids = [5, 6, 7, 8, 9]): RunTiming => ({ ttftMs, decodeMs, promptTokens: 100, ids });
const ok = (id: BackendResult['id'], runs: RunTiming[], extra: Partial<Extract<BackendResult, { ok: true }>> = {}): BackendResult => ({ id, ok: true, runs, loadMs: 12, notes: [], ...extra });

describe('bench:peers report', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('summarises each figure by its own median', () => {
    const s = summarise([run(100, 400), run(50, 100), run(200, 200)]);
    expect(s.ttftMs).toBe(100);
    expect(s.prefillTps).toBe(1000); // 100 tokens / 0.1 s
    expect(s.decodeTps).toBe(20); // 4 steps / 0.2 s
  });

  it('finds the first divergence', () => {
    expect(firstDivergence([1, 2, 3], [1, 2, 3])).toBe(-1);
    expect(firstDivergence([1, 2, 3], [1, 9, 3])).toBe(1);
    expect(firstDivergence([1, 2, 3], [1, 2])).toBe(2);
    expect(agreement([1, 2, 3], [1, 2, 3])).toBe('same 3/3');
    expect(agreement([1, 2, 3], [1, 9, 3])).toBe('diverge at 1 (2 vs 9)');
    expect(agreement([1, 2, 3], [1, 2])).toBe('same 2, then lengths 3 vs 2');
    expect(runsConsistent([run(1, 1), run(1, 1, [5, 6, 0, 8, 9])])).toBe('run 2 differs from run 1 at token 2');
    expect(runsConsistent([run(1, 1), run(1, 1)])).toBeUndefined();
  });

  it('prints the ratio line in exactly the form scripts parse', () => {
    const results = [ok('ours-webgpu', [run(10, 100)]), ok('tjs-webgpu', [run(30, 250, [5, 6, 1, 1, 1])]), ok('tjs-wasm', [run(20, 200)])];
    const r = decodeRatio(results);
    expect(r).toEqual({ ratio: 2.5 });
    expect(ratioLine(2.5)).toBe('decode ratio ours/transformers.js-webgpu: 2.50');
    expect(ratioLine(1.005)).toMatch(/^decode ratio ours\/transformers\.js-webgpu: \d+\.\d\d$/);
    const table = formatTable(results).split('\n');
    expect(table[0]).toMatch(/^backend\s+TTFT ms\s+prefill tok\/s\s+decode tok\/s\s+GPU peak\s+JS heap\s+page mem\s+load ms\s+ids vs ours$/);
    expect(table[1]).toMatch(/^ours \(WebGPU\)\s+10\.0\s+10000\.0\s+40\.00\s+n\/a\s+n\/a\s+n\/a\s+12\s+reference$/);
    expect(table[2]).toContain('diverge at 2 (7 vs 1)');
    expect(table[3]).toMatch(/n\/a \(CPU\).*same 5\/5$/);
  });

  it('a failed backend is a row with its reason, and no ratio without both figures', () => {
    const results: BackendResult[] = [ok('ours-webgpu', [run(10, 100)], { gpuPeakBytes: 3 * 2 ** 20 }), { id: 'tjs-webgpu', ok: false, error: 'no adapter' }];
    expect(decodeRatio(results)).toEqual({ reason: 'transformers.js webgpu failed: no adapter' });
    expect(decodeRatio([results[0]])).toEqual({ reason: 'no result for transformers.js webgpu' });
    const table = formatTable(results);
    expect(table).toMatch(/transformers\.js webgpu\s+FAILED/);
    expect(table).toContain('transformers.js webgpu failed: no adapter');
    expect(table).toContain('3 MiB');
  });

  it('the CPU-only comparison takes the fastest WASM engine that ran', () => {
    const results: BackendResult[] = [
      ok('ours-webgpu', [run(10, 400)]), // 10 tok/s
      ok('tjs-wasm', [run(20, 200)]), // 20 tok/s
      ok('wllama-wasm', [run(20, 100)], { pageBytes: 5 * 2 ** 20 }), // 40 tok/s
      { id: 'wllama-webgpu', ok: false, error: 'no adapter' },
    ];
    expect(cpuComparison(results)).toEqual({ ours: 10, best: 'wllama-wasm', theirs: 40, ratio: 0.25 });
    expect(cpuComparison(results.slice(0, 1))).toBeUndefined();
    const table = formatTable(results);
    expect(table).toMatch(/wllama wasm \(llama\.cpp\)\s+20\.0\s+5000\.0\s+40\.00\s+n\/a \(CPU\)\s+n\/a\s+5 MiB\s+12\s+same 5\/5/);
  });
});

describe('bench:peers real shapes', () => {
  const qwen25 = { hidden: 896, inter: 4864, heads: 14, kvHeads: 2, headDim: 64, vocab: 151936, qkvBias: true, qkNorm: false };
  it('counts the weights one decode step reads (Qwen2.5-0.5B: 494M parameters, tied head)', () => {
    const params = stepWeightBytes(qwen25, 24) / 2;
    expect(params).toBeGreaterThan(493e6);
    expect(params).toBeLessThan(495e6);
  });
  it('scales every backend by one factor, so the ratio stays the measured one', () => {
    const shape: ShapeInfo = { model: 'qwen2.5-0.5b', layers: 2, fullLayers: 24, bytesMeasured: 100, bytesFull: 400 };
    const results = [ok('ours-webgpu', [run(10, 400)]), ok('tjs-webgpu', [run(20, 800)])];
    const t = extrapolateTable(results, shape).split('\n');
    expect(t[0]).toContain('x 4.00');
    expect(t[1]).toMatch(/ours \(WebGPU\)\s+TTFT\s+40 ms\s+prefill\s+2500\.0 tok\/s\s+decode\s+2\.50 tok\/s/);
    expect(t[2]).toMatch(/decode\s+1\.25 tok\/s/);
    expect(modelLine('Qwen3-0.6B', { ...shape, model: 'qwen3-0.6b' }, 'f16 weights')).toBe('ratio for: Qwen3-0.6B (qwen3-0.6b shape, 2/24 layers measured (random weights); f16 weights)');
  });
});
