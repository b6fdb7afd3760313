// LoRA adapter (src/engine/adapter): the float64 CPU reference's loss and gradients against the
// independent PyTorch/PEFT golden, finite differences (incl. the gate and a hierarchical loss),
// and PEFT load / export round trip.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { causalLmBatch, segmentBatch } from '../../src/engine/adapter/batch.ts';
import { type LoraAdapter, createLoraAdapter, exportPeftAdapter, loadPeftAdapter, loraScaling } from '../../src/engine/adapter/lora.ts';
import { loraLogits, loraLossAndGrads } from '../../src/engine/adapter/reference.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import { type RopeAngleFn, ropeAngleExact } from '../../src/engine/ops/rope.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import { mulberry32 } from '../../src/lib/rng.ts';
import { writeSafetensors } from '../../src/engine/model/safetensors-write.ts';
import { readTinyTensors } from '../support/tiny-host.ts';

const DIR = 'tests/fixtures/golden/peft-tiny-lora';
interface LoraGolden { ids: number[]; loss: number; base_loss: number; logits: number[]; grads: Record<string, { shape: number[]; grad: number[] }> }
const golden = JSON.parse(readFileSync('tests/fixtures/golden/tiny-lora-grads.json', 'utf8')) as LoraGolden;
const config = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'), 'models/tiny/config.json');
const adapterJson = readFileSync(`${DIR}/adapter_config.json`, 'utf8');
const adapterBytes = new Uint8Array(readFileSync(`${DIR}/adapter_model.safetensors`));

async function tinyReference(opts: { ropeAngle?: RopeAngleFn } = {}): Promise<ReferenceModel> {
  const ts = await readTinyTensors();
  return new ReferenceModel(config, ts, opts);
}
const load = () => loadPeftAdapter(config, adapterJson, adapterBytes);
const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };

describe('PEFT adapter load / export', () => {
  it('reads a Node Buffer view at a nonzero byte offset (readFileSync output) like plain bytes', () => {
    const padded = Buffer.alloc(adapterBytes.byteLength + 8);
    padded.set(adapterBytes, 8);
    const view = padded.subarray(8); // a Buffer: its slice() shares memory at byteOffset 8
    expect(view.byteOffset).toBe(8);
    const a = loadPeftAdapter(config, adapterJson, view);
    const b = load();
    expect(a.modules.length).toBe(b.modules.length);
    a.modules.forEach((m, i) => { expect(Array.from(m.A)).toEqual(Array.from(b.modules[i].A)); expect(Array.from(m.B)).toEqual(Array.from(b.modules[i].B)); });
  });
  it('loads the fixture: r, alpha, modules per layer, values exactly the F32 file', () => {
    const a = load();
    expect(a.r).toBe(4); expect(a.alpha).toBe(8);
    expect(a.modules.every((m) => m.r === 4 && m.alpha === 8 && loraScaling(m) === 2)).toBe(true);
    expect(a.targetModules).toEqual(['q_proj', 'v_proj']);
    expect(a.modules.map((m) => m.path)).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
    expect(a.modules.every((m) => m.gate === 1)).toBe(true);
    // compare against the raw bytes independently of the loader
    const n = Number(new DataView(adapterBytes.buffer).getBigUint64(0, true));
    const hdr = JSON.parse(new TextDecoder().decode(adapterBytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
    const m = a.modules[3];
    const off = hdr[`base_model.model.${m.path}.lora_B.weight`].data_offsets;
    const raw = new Float32Array(adapterBytes.slice(8 + n + off[0], 8 + n + off[1]).buffer);
    expect(Array.from(m.B)).toEqual(Array.from(raw));
    expect(m.B.length).toBe(32 * 4);
  });

  it('export round trip: same keys, shapes, dtype, values and config fields; gates folded into B', async () => {
    const a = load();
    const ex = exportPeftAdapter(a);
    const keysOf = async (bytes: Uint8Array) => { const s = new Map<string, number[]>(); for await (const t of readSafetensors(chunked(bytes))) s.set(t.name, t.shape); return s; };
    expect(await keysOf(ex.safetensors)).toEqual(await keysOf(adapterBytes));
    expect(JSON.parse(ex.adapterConfig)).toEqual(JSON.parse(adapterJson));
    const b = loadPeftAdapter(config, ex.adapterConfig, ex.safetensors);
    for (let i = 0; i < a.modules.length; i++) {
      expect(Array.from(b.modules[i].A)).toEqual(Array.from(a.modules[i].A));
      expect(Array.from(b.modules[i].B)).toEqual(Array.from(a.modules[i].B));
    }
    // a gate of 0.5 on one module: exported B halves there, the reloaded (gate 1) adapter gives the same logits
    a.modules[2].gate = 0.5;
    const c = loadPeftAdapter(config, exportPeftAdapter(a).adapterConfig, exportPeftAdapter(a).safetensors);
    expect(c.modules[2].gate).toBe(1);
    expect(Array.from(c.modules[2].B)).toEqual(Array.from(a.modules[2].B, (v) => Math.fround(v * 0.5)));
    expect(Array.from(c.modules[1].B)).toEqual(Array.from(a.modules[1].B));
    const model = await tinyReference();
    const ids = golden.ids.slice(0, 6);
    expect(loraLogits(model, c, ids)).toBeAllclose(loraLogits(model, a, ids), { atol: 1e-9, rtol: 1e-9 });
  });

  it('bad input: clear messages naming the file and field / tensor', () => {
    const cfg = JSON.parse(adapterJson) as Record<string, unknown>;
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, r: 0 }), adapterBytes)).toThrow(/adapter_config.json: field "r"/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, target_modules: ['q_proj', 'lm_head'] }), adapterBytes)).toThrow(/target_modules.*lm_head/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, target_modules: ['q_proj', 'k_proj'] }), adapterBytes)).toThrow(/adapter_model.safetensors: tensor ".*k_proj.lora_A.weight" is missing/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, target_modules: ['q_proj'] }), adapterBytes)).toThrow(/unexpected tensor ".*v_proj/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, r: 8 }), adapterBytes)).toThrow(/has shape \[4, 64\], expected \[8, 64\]/);
    expect(() => loadPeftAdapter(config, adapterJson, adapterBytes.subarray(0, 200))).toThrow(/adapter_model.safetensors/);
  });
});

describe('LoRA CPU reference vs the PyTorch/PEFT golden', () => {
  it('loss, logits and d loss / d every lora_A, lora_B match torch autograd (float64)', async () => {
    // the golden's autograd run computes RoPE angles in float64 (no f32 island): so do we here
    const model = await tinyReference({ ropeAngle: ropeAngleExact });
    const a = load();
    const res = loraLossAndGrads(model, a, causalLmBatch(golden.ids));
    console.log(`[lora] reference loss ${res.loss.toFixed(10)} vs golden ${golden.loss.toFixed(10)}`);
    expect(Math.abs(res.loss - golden.loss)).toBeLessThan(1e-8);
    expect(res.logits).toBeAllclose(golden.logits, { atol: 2e-6, rtol: 0 }); // golden rounded to 1e-6
    let worst = 0;
    for (const m of a.modules) {
      const g = res.grads.get(m.path)!;
      const gA = golden.grads[`base_model.model.${m.path}.lora_A.weight`].grad;
      const gB = golden.grads[`base_model.model.${m.path}.lora_B.weight`].grad;
      const scale = Math.max(maxAbs(gA), maxAbs(gB));
      for (const [got, want] of [[g.dA, gA], [g.dB, gB]] as const) {
        expect(got).toBeAllclose(want, { atol: 1e-9 * scale + 1e-12, rtol: 1e-7 });
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      }
    }
    console.log(`[lora] max |grad - golden| = ${worst.toExponential(2)}`);
  });
});

describe('LoRA CPU reference vs finite differences', () => {
  it('A, B, gate coordinates under a hierarchical (segment-weighted) loss with gates != 1', async () => {
    const model = await tinyReference();
    const a: LoraAdapter = createLoraAdapter(config, { r: 2, alpha: 4, targetModules: ['k_proj', 'o_proj', 'up_proj', 'down_proj'] }, mulberry32(7));
    const rnd = mulberry32(11);
    for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (rnd() * 2 - 1) * 0.3; m.gate = 0.5 + rnd(); }
    const ids = [5, 77, 300, 12, 499, 6, 31, 200];
    const batch = segmentBatch(ids, [{ start: 1, end: 3, lambda: 0.5 }, { start: 3, end: 6, lambda: 1 }, { start: 6, end: 8, lambda: 2 }]);
    const res = loraLossAndGrads(model, a, batch);
    const lossAt = () => loraLossAndGrads(model, a, batch).loss;
    const h = 1e-5;
    const probe = (get: () => number, set: (v: number) => void): number => {
      const v0 = get();
      set(v0 + h); const lp = lossAt(); set(v0 - h); const lm = lossAt(); set(v0);
      return (lp - lm) / (2 * h);
    };
    const checks: Array<[string, number, number]> = [];
    for (const mi of [0, 3, 5, 7]) {
      const m = a.modules[mi]; const g = res.grads.get(m.path)!;
      // A and B are f32 arrays: perturb through a float64 copy so h is not rounded away
      const A64 = Float64Array.from(m.A); const B64 = Float64Array.from(m.B);
      const useA = () => { (m as { A: ArrayLike<number> }).A = A64; };
      const useB = () => { (m as { B: ArrayLike<number> }).B = B64; };
      useA(); useB();
      const ia = (mi * 13) % A64.length; const ib = (mi * 7 + 3) % B64.length;
      checks.push([`${m.path} A[${ia}]`, probe(() => A64[ia], (v) => { A64[ia] = v; }), g.dA[ia]]);
      checks.push([`${m.path} B[${ib}]`, probe(() => B64[ib], (v) => { B64[ib] = v; }), g.dB[ib]]);
      checks.push([`${m.path} gate`, probe(() => m.gate, (v) => { m.gate = v; }), g.dGate]);
    }
    for (const [name, num, ana] of checks) {
      expect(Math.abs(num - ana), `${name}: fd ${num} vs ${ana}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(ana));
    }
    expect(checks.filter(([, , ana]) => Math.abs(ana) > 1e-4).length).toBeGreaterThan(6);
  });
});

describe('per-module ranks: PEFT rank_pattern / alpha_pattern', () => {
  const placement = [
    { layer: 0, target: 'q_proj' as const, r: 1, alpha: 3 }, { layer: 0, target: 'down_proj' as const, r: 6, alpha: 8 },
    { layer: 1, target: 'q_proj' as const, r: 4, alpha: 8 }, { layer: 1, target: 'up_proj' as const, r: 2, alpha: 8 },
  ];
  const mixed = () => {
    const a = createLoraAdapter(config, { r: 4, alpha: 8, modules: placement }, mulberry32(3));
    const rnd = mulberry32(4);
    for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (rnd() * 2 - 1) * 0.3; m.gate = 0.7 + rnd() * 0.6; }
    return a;
  };

  it('export writes full-path target_modules, rank_pattern and alpha_pattern for the modules off the default; reload gives the same ranks, values and logits', async () => {
    const a = mixed();
    const ex = exportPeftAdapter(a);
    const cfg = JSON.parse(ex.adapterConfig) as Record<string, unknown>;
    expect(cfg.r).toBe(4); expect(cfg.lora_alpha).toBe(8);
    expect(cfg.target_modules).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.0.mlp.down_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.mlp.up_proj']);
    expect(cfg.rank_pattern).toEqual({ 'model.layers.0.self_attn.q_proj': 1, 'model.layers.0.mlp.down_proj': 6, 'model.layers.1.mlp.up_proj': 2 });
    expect(cfg.alpha_pattern).toEqual({ 'model.layers.0.self_attn.q_proj': 3 });
    const shapes = new Map<string, number[]>();
    for await (const t of readSafetensors(chunked(ex.safetensors))) shapes.set(t.name, t.shape);
    expect(shapes.get('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight')).toEqual([6, 128]);
    expect(shapes.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')).toEqual([64, 1]);
    const b = loadPeftAdapter(config, ex.adapterConfig, ex.safetensors);
    expect(b.modules.map((m) => [m.path, m.r, m.alpha])).toEqual(a.modules.map((m) => [m.path, m.r, m.alpha]));
    b.modules.forEach((m, i) => {
      expect(Array.from(m.A)).toEqual(Array.from(a.modules[i].A));
      expect(Array.from(m.B)).toEqual(Array.from(a.modules[i].B, (v) => Math.fround(v * a.modules[i].gate)));
    });
    const model = await tinyReference();
    const ids = golden.ids.slice(0, 7);
    expect(loraLogits(model, b, ids)).toBeAllclose(loraLogits(model, a, ids), { atol: 1e-6, rtol: 1e-6 });
    // a re-export of the reloaded adapter is byte-identical (same content hash)
    expect(exportPeftAdapter(b).adapterConfig).toBe(ex.adapterConfig);
    expect(Array.from(exportPeftAdapter(b).safetensors)).toEqual(Array.from(ex.safetensors));
  });

  /** A safetensors file for `specs` with deterministic values (as PEFT would save them). */
  const peftFile = (specs: Array<{ path: string; r: number; inF: number; outF: number }>) => writeSafetensors(specs.flatMap((s, j) => [
    { name: `base_model.model.${s.path}.lora_A.weight`, dtype: 'F32' as const, shape: [s.r, s.inF], data: new Uint8Array(Float32Array.from({ length: s.r * s.inF }, (_, i) => ((i * 7 + j) % 13) / 100 - 0.06).buffer) },
    { name: `base_model.model.${s.path}.lora_B.weight`, dtype: 'F32' as const, shape: [s.outF, s.r], data: new Uint8Array(Float32Array.from({ length: s.r * s.outF }, (_, i) => ((i * 5 + j) % 11) / 50 - 0.1).buffer) },
  ]), { format: 'pt' });

  it('imports a PEFT config with short-suffix pattern keys (first matching key wins, as get_pattern_key), a regex target_modules and layers_to_transform', () => {
    const cfg = { ...JSON.parse(adapterJson), r: 2, lora_alpha: 4, target_modules: ['q_proj', 'down_proj'],
      rank_pattern: { 'layers.0.self_attn.q_proj': 5, 'down_proj': 1, 'layers.1.mlp.down_proj': 9 }, alpha_pattern: { 'layers\\.1\\.mlp\\.down_proj': 3 } };
    const specs = [
      { path: 'model.layers.0.self_attn.q_proj', r: 5, inF: 64, outF: 64 }, { path: 'model.layers.0.mlp.down_proj', r: 1, inF: 128, outF: 64 },
      { path: 'model.layers.1.self_attn.q_proj', r: 2, inF: 64, outF: 64 }, { path: 'model.layers.1.mlp.down_proj', r: 1, inF: 128, outF: 64 },
    ];
    const a = loadPeftAdapter(config, JSON.stringify(cfg), peftFile(specs));
    expect(a.modules.map((m) => [m.path, m.r, m.alpha])).toEqual([
      ['model.layers.0.self_attn.q_proj', 5, 4], ['model.layers.0.mlp.down_proj', 1, 4], ['model.layers.1.self_attn.q_proj', 2, 4], ['model.layers.1.mlp.down_proj', 1, 3],
    ]);
    expect(a.modules.map(loraScaling)).toEqual([0.8, 4, 2, 3]);
    // regex string: fullmatch over module paths; layers_to_transform applies to list targets only
    const re = { ...JSON.parse(adapterJson), r: 3, lora_alpha: 6, target_modules: '.*\\.1\\.self_attn\\.(k|v)_proj', rank_pattern: {}, alpha_pattern: {} };
    const b = loadPeftAdapter(config, JSON.stringify(re), peftFile([{ path: 'model.layers.1.self_attn.k_proj', r: 3, inF: 64, outF: 32 }, { path: 'model.layers.1.self_attn.v_proj', r: 3, inF: 64, outF: 32 }]));
    expect(b.modules.map((m) => m.path)).toEqual(['model.layers.1.self_attn.k_proj', 'model.layers.1.self_attn.v_proj']);
    const lt = { ...JSON.parse(adapterJson), target_modules: ['v_proj'], layers_to_transform: [1] };
    expect(loadPeftAdapter(config, JSON.stringify(lt), peftFile([{ path: 'model.layers.1.self_attn.v_proj', r: 4, inF: 64, outF: 32 }])).modules.map((m) => m.path)).toEqual(['model.layers.1.self_attn.v_proj']);
    // the sparse export lists only the adapted modules: PEFT must not adapt layer 0's v_proj
    expect(JSON.parse(exportPeftAdapter(b).adapterConfig).target_modules).toEqual(['model.layers.1.self_attn.k_proj', 'model.layers.1.self_attn.v_proj']);
  });

  it('bad patterns: clear messages naming the field, module and rank', () => {
    const cfg = JSON.parse(adapterJson) as Record<string, unknown>;
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, rank_pattern: { q_proj: 0 } }), adapterBytes)).toThrow(/field "rank_pattern" gives model.layers.0.self_attn.q_proj rank 0/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, alpha_pattern: { v_proj: 'x' } }), adapterBytes)).toThrow(/field "alpha_pattern" gives .*v_proj alpha "x"/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, rank_pattern: { 'layers.1.self_attn.v_proj': 2 } }), adapterBytes)).toThrow(/layers.1.self_attn.v_proj.lora_A.weight" has shape \[4, 64\], expected \[2, 64\] \(rank 2/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, rank_pattern: { '(': 2 } }), adapterBytes)).toThrow(/rank_pattern" key "\(" is not a valid regular expression/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, target_modules: '.*embed_tokens' }), adapterBytes)).toThrow(/target_modules" adapts "model.embed_tokens"/);
    expect(() => loadPeftAdapter(config, JSON.stringify({ ...cfg, target_modules: ['model.layers.7.self_attn.q_proj'] }), adapterBytes)).toThrow(/unsupported module "model.layers.7.self_attn.q_proj"/);
  });

  it('reference gradients with mixed ranks match finite differences', async () => {
    const model = await tinyReference();
    const a = mixed();
    const ids = [5, 77, 300, 12, 499, 6, 31];
    const batch = segmentBatch(ids, [{ start: 1, end: 4, lambda: 1 }, { start: 4, end: 7, lambda: 2 }]);
    const res = loraLossAndGrads(model, a, batch);
    const h = 1e-5;
    for (const mi of [0, 1, 3]) {
      const m = a.modules[mi]; const g = res.grads.get(m.path)!;
      const A64 = Float64Array.from(m.A); const B64 = Float64Array.from(m.B);
      (m as { A: ArrayLike<number> }).A = A64; (m as { B: ArrayLike<number> }).B = B64;
      expect(g.dA.length).toBe(m.r * m.inFeatures); expect(g.dB.length).toBe(m.r * m.outFeatures);
      for (const [arr, grad, i] of [[A64, g.dA, (mi * 13) % A64.length], [B64, g.dB, (mi * 7 + 1) % B64.length]] as const) {
        const v0 = arr[i];
        arr[i] = v0 + h; const lp = loraLossAndGrads(model, a, batch).loss; arr[i] = v0 - h; const lm = loraLossAndGrads(model, a, batch).loss; arr[i] = v0;
        const fd = (lp - lm) / (2 * h);
        expect(Math.abs(fd - grad[i]), `${m.path} fd ${fd} vs ${grad[i]}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(grad[i]));
      }
    }
  });
});

describe('PEFT rank_pattern / alpha_pattern golden (PyTorch, patterns resolved by Python re as peft get_pattern_key)', () => {
  it('the fixture imports with the golden per-module ranks and alphas and reproduces its float64 logits', async () => {
    const dir = 'tests/fixtures/golden/peft-tiny-lora-patterns';
    const g = JSON.parse(readFileSync('tests/fixtures/golden/tiny-lora-patterns-logits.json', 'utf8')) as { ids: number[]; modules: Record<string, [number, number]>; logits: number[] };
    const a = loadPeftAdapter(config, readFileSync(`${dir}/adapter_config.json`, 'utf8'), new Uint8Array(readFileSync(`${dir}/adapter_model.safetensors`)));
    expect(Object.fromEntries(a.modules.map((m) => [m.path, [m.r, m.alpha]]))).toEqual(g.modules);
    expect(new Set(a.modules.map((m) => m.r)).size).toBeGreaterThan(2);
    const model = await tinyReference({ ropeAngle: ropeAngleExact });
    expect(loraLogits(model, a, g.ids)).toBeAllclose(g.logits, { atol: 2e-6, rtol: 0 });
  });
});
