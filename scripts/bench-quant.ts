// Quantized vs f16 linear kernels on this device: decode (1 x N x K) and prefill (M x N x K) through
// ops/matmul.ts (packed f16) and ops/matmul-q.ts (Q8_0 / Q4_0 dequantized in the kernel), each
// variant the adapter can run, with the weight bytes each reads. Figures are printed, never asserted.
//   node scripts/gpu-env.mjs npx tsx scripts/bench-quant.ts [--n 3072] [--k 1024] [--m 64] [--reps 3]
import { nodeGpuContext } from '../src/engine/device/node-gpu.ts';
import { packF32AsF16 } from '../src/engine/model/f16.ts';
import { QUANT_FORMATS, quantizeMatrix } from '../src/engine/model/quant.ts';
import { type MatmulVariant, matmulDispatch, matmulParams, variantFeature } from '../src/engine/ops/matmul.ts';
import { matmulQDispatch } from '../src/engine/ops/matmul-q.ts';
import { allocStorage, uploadStorage } from '../src/engine/runtime/buffers.ts';
import { type Dispatch, encodeDispatches } from '../src/engine/runtime/kernel.ts';
import { mulberry32 } from '../src/lib/rng.ts';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const N = arg('n', 3072); const K = arg('k', 1024); const M = arg('m', 64); const REPS = arg('reps', 3);

const ctx = await nodeGpuContext();
const { device } = ctx;
const fallback = ctx.report.isFallbackAdapter;
console.log(`device: ${ctx.report.description || ctx.report.vendor} (fallback ${fallback}); W ${N} x ${K}, prefill M = ${M}, ${REPS} reps`);

const r = mulberry32(1);
const wf = Float32Array.from({ length: N * K }, () => (r() * 2 - 1) * 0.05);
const weights: Record<string, Uint32Array> = { f16: packF32AsF16(wf) };
for (const f of QUANT_FORMATS) weights[f] = quantizeMatrix(f, wf, N, K);
const x = uploadStorage(device, Float32Array.from({ length: M * K }, () => r() * 2 - 1));
const out = allocStorage(device, M * N * 4);
const bias = allocStorage(device, N * 2 + 16);
const uni = (words: Uint32Array) => { const b = device.createBuffer({ size: Math.max(16, words.byteLength), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }); device.queue.writeBuffer(b, 0, words); return b; };
const params = uni(matmulParams({ n: N, k: K, ldo: N, noff: 0, flags: 0, m: 0 }));

async function time(d: Dispatch, m: number): Promise<number> {
  const step = async (times: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < times; i++) encodeDispatches(enc, [d], m);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await step(1);
  const t0 = performance.now();
  await step(REPS);
  return (performance.now() - t0) / REPS;
}

const decode: MatmulVariant[] = fallback ? ['rowdot', 'subgroup'] : ['subgroup', 'matvec', 'rowdot'];
const prefill: MatmulVariant[] = ['register', 'workgroup'];
for (const [label, m, variants] of [['decode', 1, decode], ['prefill', M, prefill]] as const) {
  for (const v of variants) {
    const feat = variantFeature(v);
    if (feat && !ctx.has(feat)) { console.log(`${label} ${v}: skipped (no '${feat}')`); continue; }
    const step = uni(new Uint32Array([m, 0, 0, 0]));
    const row: string[] = [];
    let f16ms = 0;
    for (const fmt of ['f16', ...QUANT_FORMATS] as const) {
      const w = uploadStorage(device, weights[fmt]);
      const b = { x, w, bias, out, params, step };
      const d = fmt === 'f16' ? matmulDispatch(device, v, b, N, (t) => t) : matmulQDispatch(device, fmt, v, b, N, (t) => t);
      const ms = await time(d, m);
      if (fmt === 'f16') f16ms = ms;
      row.push(`${fmt} ${ms.toFixed(2)} ms (${((2 * m * N * K) / (ms * 1e6)).toFixed(2)} GFLOP/s, ${(weights[fmt].byteLength / 2 ** 20).toFixed(2)} MiB${fmt === 'f16' ? '' : `, x${(f16ms / ms).toFixed(2)} of f16's speed`})`);
      w.destroy();
    }
    console.log(`${label} ${v} M=${m}: ${row.join('; ')}`);
  }
}
device.destroy();
