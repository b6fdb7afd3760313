// The 2026 students at tiny shapes, one config per architecture (model/arch-*.ts) with random
// weights: the GPU decoder's logits (one prefill, then more tokens through the KV cache, both
// attention kernels) against the float64 reference, a sparse LoRA's loss and every A, B, gate
// gradient against the float64 reference, a few AdamW steps that lower the loss, and PEFT export
// keyed by the architecture's module paths (model/block.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalLmBatch } from '../../src/engine/adapter/batch.ts';
import { createLoraAdapter, exportPeftAdapter, loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { LoraAdamW } from '../../src/engine/adapter/optimizer.ts';
import { loraLogits, loraLossAndGrads } from '../../src/engine/adapter/reference.ts';
import { LoraTrainPass } from '../../src/engine/adapter/train-pass.ts';
import type { GpuContext } from '../../src/engine/device/gpu-context.ts';
import { nodeGpuContext } from '../../src/engine/device/node-gpu.ts';
import { describeModel } from '../../src/engine/model/block.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { createDecoder } from '../../src/engine/model/decoder.ts';
import { randomModelTensors } from '../../src/engine/model/random-model.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import { rng } from './helpers.ts';

let ctx: GpuContext;
beforeAll(async () => { ctx = await nodeGpuContext(); });
afterAll(() => ctx?.device.destroy());

const common = { vocab_size: 96, hidden_size: 32, intermediate_size: 40, num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-6, max_position_embeddings: 256 };
/** One tiny config per family, each with the features that set it apart. */
const ARCHS: Array<{ name: string; config: Record<string, unknown>; check: (c: ReturnType<typeof parseModelConfig>) => void }> = [
  {
    name: 'Qwen3 (q/k norms, head_dim 12 decoupled from hidden 32 / 4 heads, tied)',
    config: { ...common, architectures: ['Qwen3ForCausalLM'], num_hidden_layers: 2, head_dim: 12, rope_theta: 1e6, tie_word_embeddings: true },
    check: (c) => { expect([c.qkNorm, c.headDim, c.numHeads * c.headDim]).toEqual([true, 12, 48]); },
  },
  {
    name: 'Llama 3.2 (llama3 rope_scaling)',
    config: { ...common, architectures: ['LlamaForCausalLM'], num_hidden_layers: 2, rope_theta: 500000, tie_word_embeddings: true, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } },
    check: (c) => { expect(c.ropeScaling?.factor).toBe(8); },
  },
  {
    name: 'SmolLM3 (no RoPE on every 4th layer)',
    config: { ...common, architectures: ['SmolLM3ForCausalLM'], num_hidden_layers: 4, rope_theta: 5e6, tie_word_embeddings: true, no_rope_layer_interval: 4 },
    check: (c) => { expect(describeModel(c).layers.map((l) => l.rope === null)).toEqual([false, false, false, true]); },
  },
  {
    name: 'Gemma 3 (sliding window 5 on layers 0-1, own RoPE bases, (1+w) norms x4, sqrt(hidden) embeddings, query_pre_attn_scalar, GeGLU, MQA)',
    config: {
      ...common, architectures: ['Gemma3ForCausalLM'], num_hidden_layers: 3, num_key_value_heads: 1, head_dim: 8, query_pre_attn_scalar: 6,
      sliding_window: 5, layer_types: ['sliding_attention', 'sliding_attention', 'full_attention'], rope_theta: 1e6, rope_local_base_freq: 10000,
      hidden_activation: 'gelu_pytorch_tanh', final_logit_softcapping: null, attn_logit_softcapping: null,
    },
    check: (c) => {
      const b = describeModel(c);
      expect(b.layers.map((l) => [l.window, l.rope?.theta, l.act, !!l.postAttnNorm])).toEqual([[5, 10000, 'gelu_tanh', true], [5, 10000, 'gelu_tanh', true], [0, 1e6, 'gelu_tanh', true]]);
      expect([b.embedScale, b.attnScale, c.tieWordEmbeddings]).toEqual([Math.sqrt(32), 1 / Math.sqrt(6), true]);
    },
  },
  {
    name: 'DeepSeek-R1-Distill-Qwen (Qwen2, untied head)',
    config: { ...common, architectures: ['Qwen2ForCausalLM'], num_hidden_layers: 2, rope_theta: 10000, tie_word_embeddings: false },
    check: (c) => { expect([c.attentionBias, c.tieWordEmbeddings]).toEqual([true, false]); },
  },
];

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
const LOGIT_TOL = { atol: 2e-4, rtol: 1e-4 };

for (const arch of ARCHS) {
  describe(arch.name, () => {
    const config = parseModelConfig(arch.config, `${arch.name}/config.json`);
    const tensors = [...randomModelTensors(config, { seed: 7, embedStd: 0.5 })];
    const ref = new ReferenceModel(config, tensors);
    const prompt = Array.from({ length: 13 }, (_, i) => (i * 37 + 5) % config.vocabSize);

    it('config and description', () => arch.check(config));

    for (const barrierFree of [true, false]) {
      it(`logits match the float64 reference: one prefill, then through the KV cache (${barrierFree ? 'thread-per-row' : 'workgroup'} kernels)`, async () => {
        const dec = await createDecoder(ctx, config, tensors, undefined, { barrierFree, prefillChunk: 8, kvCache: 'f32' }); // f32 KV cache: float64 tolerances (f16: kv16.test.ts)
        try {
          const want = ref.logits(prompt);
          expect(await dec.newSession(32).logits(prompt)).toBeAllclose(want, LOGIT_TOL);
          const s = dec.newSession(32);
          const a = await s.logits(prompt.slice(0, 7));
          const b = await s.logits(prompt.slice(7, 8));
          const c = await s.logits(prompt.slice(8));
          const got = new Float32Array(want.length);
          got.set(a); got.set(b, 7 * config.vocabSize); got.set(c, 8 * config.vocabSize);
          expect(got).toBeAllclose(want, LOGIT_TOL);
          // greedy decoding through feed() follows the reference
          const g = dec.newSession(32);
          let tok = await g.feed(prompt, { temperature: 0, topP: 1, topK: 1, u: 0 });
          const ids = [tok.id];
          for (let i = 0; i < 3; i++) { tok = await g.feed([tok.id], { temperature: 0, topP: 1, topK: 1, u: 0 }); ids.push(tok.id); }
          expect(ids).toEqual(ref.greedy(prompt, 4));
        } finally {
          dec.dispose();
        }
      });
    }

    it('a sparse LoRA: loss and every gradient match the float64 reference, AdamW steps lower the loss, PEFT export uses the module paths', async () => {
      const dec = await createDecoder(ctx, config, tensors);
      const a = createLoraAdapter(config, { r: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, rng(11));
      // sparse: drop some modules, non-zero B and gates != 1 so every path carries gradient
      a.modules = a.modules.filter((m, i) => i % 3 !== 2);
      const r = rng(12);
      for (const m of a.modules) { for (let i = 0; i < m.B.length; i++) m.B[i] = (r() * 2 - 1) * 0.2; m.gate = 0.6 + 0.8 * r(); }
      const batch = causalLmBatch(prompt);
      const pass = new LoraTrainPass(ctx, dec, a, prompt.length);
      const opt = new LoraAdamW(ctx, pass, { lr: 2e-2, maxGradNorm: 1, weightDecay: 0 });
      try {
        expect(await pass.logits(prompt)).toBeAllclose(loraLogits(ref, a, prompt), LOGIT_TOL);
        const gpu = await pass.run(batch);
        const cpu = loraLossAndGrads(ref, a, batch);
        expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-4 * cpu.loss);
        // per tensor, relative to its largest entry: f32 on the GPU vs float64 (adapter-train.test.ts: 1e-4)
        for (const m of a.modules) {
          const g = gpu.grads.get(m.path)!; const c = cpu.grads.get(m.path)!;
          for (const [name, got, want] of [['dA', g.dA, c.dA], ['dB', g.dB, c.dB]] as const) {
            const scale = maxAbs(want);
            expect(scale, `${m.path} ${name} is zero`).toBeGreaterThan(0);
            expect(got, `${m.path} ${name}`).toBeAllclose(want, { atol: 1e-4 * scale, rtol: 0 });
          }
          expect(Math.abs(g.dGate - c.dGate), `${m.path} dgate`).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(c.dGate)) + 1e-6);
        }
        const losses: number[] = [];
        for (let i = 0; i < 5; i++) { losses.push((await pass.run(batch, { readGrads: false })).loss); await opt.step(); }
        losses.push((await pass.forwardLoss(batch)).loss);
        expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
        const trained = await pass.readAdapter();
        expect(Math.abs(loraLossAndGrads(ref, trained, batch).loss - losses[losses.length - 1])).toBeLessThan(1e-3 * losses[0]);
        const ex = exportPeftAdapter(trained);
        const n = Number(new DataView(ex.safetensors.buffer, ex.safetensors.byteOffset).getBigUint64(0, true));
        const keys = Object.keys(JSON.parse(new TextDecoder().decode(ex.safetensors.subarray(8, 8 + n)))).filter((k) => k !== '__metadata__').sort();
        const paths = describeModel(config).layers.flatMap((L) => [L.q, L.k, L.v, L.o, L.gate, L.up, L.down]).filter((s) => a.modules.some((m) => m.path === s.path));
        expect(keys).toEqual(paths.flatMap((s) => [`base_model.model.${s.path}.lora_A.weight`, `base_model.model.${s.path}.lora_B.weight`]).sort());
        const back = loadPeftAdapter(config, ex.adapterConfig, ex.safetensors);
        expect(loraLogits(ref, back, prompt)).toBeAllclose(loraLogits(ref, trained, prompt), { atol: 1e-4, rtol: 1e-5 });
      } finally {
        opt.dispose(); pass.dispose(); dec.dispose();
      }
    });
  });
}
