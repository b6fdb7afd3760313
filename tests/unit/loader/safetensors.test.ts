import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16, packF16 } from '../../../src/engine/model/f16.ts';
import {
  chunked, parseShardIndex, readSafetensors, readShardedSafetensors, SafetensorsError, TruncatedFileError,
} from '../../../src/engine/model/safetensors.ts';
import type { HostTensor } from '../../../src/engine/model/types.ts';
import { f32Bytes, u16Bytes, writeSafetensors } from './st-writer.ts';

async function collect(gen: AsyncIterable<HostTensor>): Promise<HostTensor[]> {
  const out: HostTensor[] = [];
  for await (const t of gen) out.push(t);
  return out;
}

function randomValues(n: number, seed: number, scale = 3): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/** bf16 bits of v by truncation (what a writer could store); the loader must then map it exactly. */
const bf16Of = (v: number): number => (new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16);

function sampleFile() {
  const a = randomValues(7 * 5, 1); // odd count
  const b = randomValues(6, 2).map((v) => f32ToF16(v));
  const c = randomValues(4 * 3, 3).map(bf16Of);
  const bytes = writeSafetensors([
    { name: 'model.a.weight', dtype: 'F32', shape: [7, 5], data: f32Bytes(a) },
    { name: 'model.b.bias', dtype: 'F16', shape: [6], data: u16Bytes(b) },
    { name: 'model.c.weight', dtype: 'BF16', shape: [4, 3], data: u16Bytes(c) },
    { name: 'model.scalar', dtype: 'F32', shape: [], data: f32Bytes([1e9]) },
  ], { metadata: { format: 'pt' } });
  const expected: Record<string, { shape: number[]; packed: Uint32Array }> = {
    'model.a.weight': { shape: [7, 5], packed: packF16(a.map((v) => f32ToF16(v))) },
    'model.b.bias': { shape: [6], packed: packF16(b) },
    'model.c.weight': { shape: [4, 3], packed: packF16(c.map((h) => f32ToF16(new Float32Array(new Uint32Array([h << 16]).buffer)[0]))) },
    'model.scalar': { shape: [], packed: packF16([0x7c00]) }, // 1e9 overflows f16 -> inf
  };
  return { bytes, expected };
}

describe('readSafetensors', () => {
  for (const chunk of [1, 3, 7, 64, 1 << 20]) {
    it(`converts F32/F16/BF16 to packed f16 with ${chunk}-byte chunks`, async () => {
      const { bytes, expected } = sampleFile();
      const loaded: number[] = [];
      const got = await collect(readSafetensors(chunked(bytes, chunk), { size: bytes.byteLength, onBytes: (n) => loaded.push(n) }));
      expect(got.map((t) => t.name)).toEqual(Object.keys(expected));
      for (const t of got) {
        expect(t.shape).toEqual(expected[t.name].shape);
        expect(Array.from(t.packed)).toEqual(Array.from(expected[t.name].packed));
      }
      expect(loaded[loaded.length - 1]).toBe(bytes.byteLength);
    });
  }

  it('reads from a ReadableStream and yields the first tensor before the stream is drained', async () => {
    const big = randomValues(64 * 1024, 9); // 256 KiB of F32 after a small first tensor
    const bytes = writeSafetensors([
      { name: 'first', dtype: 'F16', shape: [2], data: u16Bytes([0x3c00, 0x4000]) },
      { name: 'big', dtype: 'F32', shape: [64, 1024], data: f32Bytes(big) },
    ]);
    const chunks = [...chunked(bytes, 4096)];
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (pulled < chunks.length) ctrl.enqueue(chunks[pulled++]);
        else ctrl.close();
      },
    }, { highWaterMark: 0 });
    const gen = readSafetensors(stream);
    const first = await gen.next();
    expect((first.value as HostTensor).name).toBe('first');
    expect(Array.from((first.value as HostTensor).packed)).toEqual([0x40003c00]);
    expect(pulled).toBeLessThan(chunks.length / 4); // streaming: most of the file not read yet
    const second = await gen.next();
    expect((second.value as HostTensor).name).toBe('big');
    const v = (second.value as HostTensor).packed;
    expect(f16ToF32(v[0] & 0xffff)).toBeCloseTo(big[0], 2);
    expect(pulled).toBe(chunks.length);
  });

  it('skips tensors the include filter rejects', async () => {
    const { bytes } = sampleFile();
    const got = await collect(readSafetensors(chunked(bytes, 5), { include: (n) => n.endsWith('.weight') }));
    expect(got.map((t) => t.name)).toEqual(['model.a.weight', 'model.c.weight']);
  });

  it('says a truncated file is truncated, with expected and actual sizes', async () => {
    const { bytes } = sampleFile();
    const cut = bytes.subarray(0, bytes.byteLength - 10);
    const msg = `model.safetensors is truncated: expected ${bytes.byteLength} bytes, got ${cut.byteLength}`;
    await expect(collect(readSafetensors(chunked(cut, 16)))).rejects.toThrow(msg);
    // With the size known up front it fails before converting anything.
    let yielded = 0;
    await expect((async () => { for await (const _ of readSafetensors(chunked(cut, 16), { size: cut.byteLength })) yielded++; })()).rejects.toThrow(msg);
    expect(yielded).toBe(0);
    await expect(collect(readSafetensors(chunked(bytes.subarray(0, 5))))).rejects.toBeInstanceOf(TruncatedFileError);
  });

  it('names file, tensor and field for header problems', async () => {
    const ok = [{ name: 'w', dtype: 'F32', shape: [2], data: f32Bytes([1, 2]) }, { name: 'v', dtype: 'F32', shape: [1], data: f32Bytes([3]) }];
    const cases: [Uint8Array, RegExp][] = [
      [writeSafetensors(ok, { rawHeader: '{"w": {"dtype": "F32",' }), /^x\.safetensors: field "header" is not valid JSON/],
      [writeSafetensors(ok, { mutateHeader: (h) => { (h.w as { dtype: string }).dtype = 'I64'; } }), /^x\.safetensors: tensor "w" field "dtype" "I64" is not supported; supported: BF16, F16, F32/],
      [writeSafetensors(ok, { mutateHeader: (h) => { (h.w as { dtype: string }).dtype = 'Q4'; } }), /tensor "w" field "dtype" "Q4" is not a safetensors dtype/],
      [writeSafetensors(ok, { mutateHeader: (h) => { (h.v as { data_offsets: number[] }).data_offsets = [4, 8]; } }), /tensor "v" field "data_offsets" \[4, 8\] overlaps tensor "w" \[0, 8\]/],
      [writeSafetensors(ok, { mutateHeader: (h) => { (h.w as { data_offsets: number[] }).data_offsets = [8, 0]; } }), /tensor "w" field "data_offsets" must be \[begin, end\]/],
      [writeSafetensors(ok, { mutateHeader: (h) => { (h.w as { shape: number[] }).shape = [3]; } }), /tensor "w" field "data_offsets" spans 8 bytes but shape \[3\] of F32 needs 12/],
      [writeSafetensors(ok, { mutateHeader: (h) => { (h.w as { shape: unknown }).shape = 'x'; } }), /tensor "w" field "shape" must be a list/],
      [writeSafetensors(ok, { rawHeader: '[1,2]' }), /field "header" header must be a JSON object/],
    ];
    for (const [bytes, re] of cases) {
      const err = await collect(readSafetensors(chunked(bytes, 3), { fileName: 'x.safetensors' })).then(() => null, (e: Error) => e);
      expect(err).toBeInstanceOf(SafetensorsError);
      expect(err?.message).toMatch(re);
    }
    // Not a safetensors file at all: an absurd header length.
    const junk = new TextEncoder().encode('<!DOCTYPE html><html>not found</html>');
    await expect(collect(readSafetensors(chunked(junk), { fileName: 'x.safetensors' }))).rejects.toThrow(/x\.safetensors: field "header" length \d+ is not plausible/);
  });
});

describe('sharded safetensors', () => {
  const shard1 = writeSafetensors([
    { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [2, 2], data: f32Bytes([1, 2, 3, 4]) },
    { name: 'model.norm.weight', dtype: 'BF16', shape: [2], data: u16Bytes([0x3f80, 0xc000]) },
  ]);
  const shard2 = writeSafetensors([{ name: 'lm_head.weight', dtype: 'F16', shape: [2, 2], data: u16Bytes([0x3c00, 0, 0, 0x3c00]) }]);
  const files: Record<string, Uint8Array> = { 'model-00001-of-00002.safetensors': shard1, 'model-00002-of-00002.safetensors': shard2 };
  const indexJson = {
    metadata: { total_size: 28 },
    weight_map: {
      'lm_head.weight': 'model-00002-of-00002.safetensors',
      'model.embed_tokens.weight': 'model-00001-of-00002.safetensors',
      'model.norm.weight': 'model-00001-of-00002.safetensors',
    },
  };
  const open = async (f: string) => ({ stream: chunked(files[f], 5), size: files[f].byteLength });

  it('iterates every shard named by the index', async () => {
    const index = parseShardIndex(JSON.stringify(indexJson));
    expect(index.shards).toEqual(['model-00002-of-00002.safetensors', 'model-00001-of-00002.safetensors']);
    const progress: string[] = [];
    const got = await collect(readShardedSafetensors(index, open, { onBytes: (f, n, size) => { if (n === size) progress.push(f); } }));
    expect(got.map((t) => t.name).sort()).toEqual(Object.keys(indexJson.weight_map).sort());
    expect(progress).toEqual(index.shards);
    const norm = got.find((t) => t.name === 'model.norm.weight')!;
    expect(Array.from(norm.packed)).toEqual([(0xc000 << 16 | 0x3c00) >>> 0]); // bf16 1, -2 -> f16
  });

  it('errors when a shard lacks a tensor the index maps to it', async () => {
    const bad = structuredClone(indexJson) as typeof indexJson & { weight_map: Record<string, string> };
    bad.weight_map['model.layers.0.mlp.up_proj.weight'] = 'model-00002-of-00002.safetensors';
    await expect(collect(readShardedSafetensors(parseShardIndex(bad), open))).rejects.toThrow(
      'model.safetensors.index.json: field "weight_map" maps tensor "model.layers.0.mlp.up_proj.weight" to model-00002-of-00002.safetensors, but model-00002-of-00002.safetensors does not contain it',
    );
  });

  it('rejects a malformed index', () => {
    expect(() => parseShardIndex('{')).toThrow(/model\.safetensors\.index\.json: is not valid JSON/);
    expect(() => parseShardIndex({})).toThrow(/field "weight_map" must be an object/);
    expect(() => parseShardIndex({ weight_map: { a: '../etc/passwd' } })).toThrow(/field "weight_map\["a"\]" must name a \.safetensors file/);
  });
});

describe('f16 range warnings', () => {
  it('counts finite BF16/F32 values that overflow to inf, and not real infinities', async () => {
    const bytes = writeSafetensors([
      { name: 'f32', dtype: 'F32', shape: [4], data: f32Bytes([1, 70000, -1e9, Infinity]) },
      { name: 'bf16', dtype: 'BF16', shape: [3], data: u16Bytes([0x3f80, 0x4780 /* 65536 */, 0xff80 /* -inf */]) },
      { name: 'ok', dtype: 'F32', shape: [1], data: f32Bytes([65504]) },
    ]);
    for (const chunk of [3, 1 << 20]) {
      const warnings: string[] = [];
      await collect(readSafetensors(chunked(bytes, chunk), { onWarning: (w) => warnings.push(w) }));
      expect(warnings).toEqual([
        'model.safetensors: tensor "f32": 2 F32 values beyond the f16 range (+-65504) became +-inf',
        'model.safetensors: tensor "bf16": 1 BF16 values beyond the f16 range (+-65504) became +-inf',
      ]);
    }
  });
});
