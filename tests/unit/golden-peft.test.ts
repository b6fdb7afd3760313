// The PEFT LoRA fixture (tests/fixtures/golden/peft-tiny-lora, written as PEFT's save_pretrained
// writes it) and the LoRA golden (tiny-lora-grads.json: loss, logits, and d loss / d every lora_A,
// lora_B from torch autograd). This checks the fixtures themselves: their structure against the base
// model config and, through the CPU reference with the adapter merged (W + alpha/r * B·A), that the
// fixture's LoRA convention reproduces its logits. The adapter code is checked against them in
// tests/unit/adapter-lora.test.ts and tests/kernel/adapter-train.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { packF32AsF16, unpackF16 } from '../../src/engine/model/f16.ts';
import { ReferenceModel } from '../../src/engine/model/reference.ts';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';
import { readTinyTensors } from '../support/tiny-host.ts';

const DIR = 'tests/fixtures/golden/peft-tiny-lora';
const GRADS = 'tests/fixtures/golden/tiny-lora-grads.json';

interface AdapterConfig { peft_type: string; task_type: string; r: number; lora_alpha: number; lora_dropout: number; bias: string; target_modules: string[]; base_model_name_or_path: string; fan_in_fan_out: boolean; use_dora: boolean; use_rslora: boolean }
interface LoraGolden { base_model: string; r: number; lora_alpha: number; scaling: number; ids: number[]; loss: number; base_loss: number; logits: number[]; argmax: number[]; grads: Record<string, { shape: number[]; grad: number[] }> }
interface F32Tensor { shape: number[]; data: Float32Array }

/** Minimal safetensors read keeping F32 exactly (the engine loader converts everything to f16). */
function readF32Safetensors(path: string): { tensors: Map<string, F32Tensor>; metadata: Record<string, string> | undefined; dtypes: Set<string> } {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  const tensors = new Map<string, F32Tensor>();
  const dtypes = new Set<string>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const v = e as { dtype: string; shape: number[]; data_offsets: [number, number] };
    dtypes.add(v.dtype);
    const bytes = buf.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]);
    tensors.set(name, { shape: v.shape, data: new Float32Array(new Uint8Array(bytes).buffer) });
  }
  return { tensors, metadata: header.__metadata__, dtypes };
}

function cePerTokenMean(logits: ArrayLike<number>, ids: number[], V: number): number {
  let s = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits[t * V + j]);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[t * V + j] - m);
    s += m + Math.log(z) - logits[t * V + ids[t + 1]];
  }
  return s / (ids.length - 1);
}

const cfgJson = readFileSync('models/tiny/config.json', 'utf8');
const base = parseModelConfig(cfgJson, 'models/tiny/config.json');
const adapterCfg = JSON.parse(readFileSync(`${DIR}/adapter_config.json`, 'utf8')) as AdapterConfig;
const golden = JSON.parse(readFileSync(GRADS, 'utf8')) as LoraGolden;

/** Expected PEFT keys and shapes for the config: lora_A (r, in), lora_B (out, r). */
function expectedAdapterTensors(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const dims: Record<string, [number, number]> = {
    q_proj: [base.hiddenSize, base.numHeads * base.headDim],
    k_proj: [base.hiddenSize, base.numKvHeads * base.headDim],
    v_proj: [base.hiddenSize, base.numKvHeads * base.headDim],
    o_proj: [base.numHeads * base.headDim, base.hiddenSize],
  };
  for (let l = 0; l < base.numLayers; l++) {
    for (const m of adapterCfg.target_modules) {
      const [inF, outF] = dims[m];
      const p = `base_model.model.model.layers.${l}.self_attn.${m}`;
      out.set(`${p}.lora_A.weight`, [adapterCfg.r, inF]);
      out.set(`${p}.lora_B.weight`, [outF, adapterCfg.r]);
    }
  }
  return out;
}

describe('PEFT LoRA fixture structure', () => {
  it('adapter_config.json carries the fields PEFT writes for a causal-LM LoRA', () => {
    expect(adapterCfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', bias: 'none', fan_in_fan_out: false, use_dora: false, use_rslora: false, lora_dropout: 0 });
    expect(adapterCfg.base_model_name_or_path).toBe(golden.base_model);
    expect(adapterCfg.target_modules.slice().sort()).toEqual(['q_proj', 'v_proj']);
    expect(adapterCfg.r).toBe(golden.r);
    expect(adapterCfg.lora_alpha).toBe(golden.lora_alpha);
    expect(golden.scaling).toBe(adapterCfg.lora_alpha / adapterCfg.r);
  });

  it('adapter_model.safetensors: exactly the expected keys (adapter name stripped), shapes from the base config, F32, format pt', () => {
    const { tensors, metadata, dtypes } = readF32Safetensors(`${DIR}/adapter_model.safetensors`);
    const want = expectedAdapterTensors();
    expect([...tensors.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, shape] of want) {
      expect(tensors.get(k)!.shape, k).toEqual(shape);
      expect(tensors.get(k)!.data.length).toBe(shape[0] * shape[1]);
      expect(tensors.get(k)!.data.some((v) => v !== 0), `${k} is all zero`).toBe(true);
    }
    expect([...dtypes]).toEqual(['F32']);
    expect(metadata).toEqual({ format: 'pt' });
  });

  it('the project loader reads the adapter file (names and shapes as above)', async () => {
    const seen = new Map<string, number[]>();
    for await (const t of readSafetensors(chunked(readFileSync(`${DIR}/adapter_model.safetensors`)), { fileName: 'adapter_model.safetensors' })) seen.set(t.name, t.shape);
    expect(seen).toEqual(expectedAdapterTensors());
  });

  it('the gradient golden names every adapter tensor with its shape; grads finite, both A and B nonzero', () => {
    const want = expectedAdapterTensors();
    expect(Object.keys(golden.grads).sort()).toEqual([...want.keys()].sort());
    for (const [k, g] of Object.entries(golden.grads)) {
      expect(g.shape, k).toEqual(want.get(k));
      expect(g.grad.length).toBe(g.shape[0] * g.shape[1]);
      expect(g.grad.every(Number.isFinite)).toBe(true);
      expect(Math.max(...g.grad.map(Math.abs)), k).toBeGreaterThan(1e-3);
    }
    expect(golden.logits.length).toBe(golden.ids.length * base.vocabSize);
  });
});

describe('LoRA golden vs the CPU reference with the adapter merged', () => {
  it('W + (alpha/r)·B·A in the reference reproduces the golden LoRA logits, argmax and loss; without it, the base loss', async () => {
    const { tensors: lora } = readF32Safetensors(`${DIR}/adapter_model.safetensors`);
    const baseTensors = await readTinyTensors();
    const merged = baseTensors.map((t): HostTensor => {
      const m = /^(model\.layers\.\d+\.self_attn\.[a-z_]+)\.weight$/.exec(t.name);
      const A = m && lora.get(`base_model.model.${m[1]}.lora_A.weight`);
      const B = m && lora.get(`base_model.model.${m[1]}.lora_B.weight`);
      if (!A || !B) return t;
      const [outF, inF] = t.shape;
      const r = A.shape[0];
      const w = unpackF16(t.packed, outF * inF);
      const out = new Float32Array(outF * inF);
      for (let o = 0; o < outF; o++) {
        for (let i = 0; i < inF; i++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += B.data[o * r + k] * A.data[k * inF + i];
          out[o * inF + i] = w[o * inF + i] + golden.scaling * s;
        }
      }
      return { name: t.name, shape: t.shape, packed: packF32AsF16(out) };
    });
    const V = base.vocabSize;
    const got = new ReferenceModel(base, merged).logits(golden.ids);
    let dev = 0;
    for (let i = 0; i < got.length; i++) dev = Math.max(dev, Math.abs(got[i] - golden.logits[i]));
    console.log(`[golden] merged-LoRA reference vs golden max |dlogit| = ${dev.toExponential(2)}, loss ${cePerTokenMean(got, golden.ids, V).toFixed(5)} vs ${golden.loss.toFixed(5)}`);
    // The merged weights are rounded to f16 (the engine's weight format): logits move by up to
    // ~1e-2 here (|logits| up to ~19); a wrong scaling, transposed A/B or wrong module moves them by O(1).
    expect(got).toBeAllclose(golden.logits, { atol: 5e-2, rtol: 5e-3 });
    const am: number[] = [];
    for (let t = 0; t < golden.ids.length; t++) {
      let b = 0;
      for (let j = 1; j < V; j++) if (got[t * V + j] > got[t * V + b]) b = j;
      am.push(b);
    }
    expect(am).toEqual(golden.argmax);
    expect(cePerTokenMean(got, golden.ids, V)).toBeCloseTo(golden.loss, 2);
    const plain = new ReferenceModel(base, baseTensors).logits(golden.ids);
    expect(cePerTokenMean(plain, golden.ids, V)).toBeCloseTo(golden.base_loss, 4);
    expect(Math.abs(golden.loss - golden.base_loss)).toBeGreaterThan(0.5); // the adapter matters
  });
});
