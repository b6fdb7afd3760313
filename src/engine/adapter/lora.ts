// LoRA adapter on a subset of a decoder's linear modules, PEFT-compatible:
//   y = x·Wᵀ + b + gate · (alpha/r) · (x·Aᵀ)·Bᵀ      A (r, in), B (out, r), gate a learned scalar
// (gate = 1 reproduces PEFT's lora.Linear; PEFT export folds the gate into B).
// PEFT save format: adapter_config.json + adapter_model.safetensors with keys
// `base_model.model.<module path>.lora_{A,B}.weight`, F32, metadata {format: pt}.
import { f16ToF32 } from '../model/f16.ts';
import { validateSafetensorsHeader } from '../model/safetensors.ts';
import { writeSafetensors } from '../model/safetensors-write.ts';
import type { ModelConfig } from '../model/types.ts';

/** Linear modules a LoRA may target (short names as in PEFT's target_modules). */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraModule {
  /** HF module path, e.g. "model.layers.0.self_attn.q_proj" */
  path: string;
  layer: number;
  /** name inside the layer, e.g. "self_attn.q_proj" (what ReferenceModel's LinearDelta receives) */
  module: string;
  inFeatures: number;
  outFeatures: number;
  A: Float32Array; // (r, in)
  B: Float32Array; // (out, r)
  gate: number;
}

export interface LoraAdapter {
  r: number;
  alpha: number;
  /** alpha / r */
  scaling: number;
  targetModules: LoraTarget[];
  baseModel: string;
  /** layer-major, then in LORA_TARGETS order */
  modules: LoraModule[];
}

const SUB: Record<LoraTarget, string> = {
  q_proj: 'self_attn.q_proj', k_proj: 'self_attn.k_proj', v_proj: 'self_attn.v_proj', o_proj: 'self_attn.o_proj',
  gate_proj: 'mlp.gate_proj', up_proj: 'mlp.up_proj', down_proj: 'mlp.down_proj',
};

/** [in, out] features of a target module. */
export function loraModuleDims(c: ModelConfig, m: LoraTarget): [number, number] {
  const C = c.hiddenSize; const Q = c.numHeads * c.headDim; const KV = c.numKvHeads * c.headDim; const F = c.intermediateSize;
  const dims: Record<LoraTarget, [number, number]> = { q_proj: [C, Q], k_proj: [C, KV], v_proj: [C, KV], o_proj: [Q, C], gate_proj: [C, F], up_proj: [C, F], down_proj: [F, C] };
  return dims[m];
}

function modulesFor(c: ModelConfig, targets: readonly LoraTarget[], r: number): LoraModule[] {
  const out: LoraModule[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    for (const t of LORA_TARGETS) {
      if (!targets.includes(t)) continue;
      const [inF, outF] = loraModuleDims(c, t);
      out.push({ path: `model.layers.${l}.${SUB[t]}`, layer: l, module: SUB[t], inFeatures: inF, outFeatures: outF, A: new Float32Array(r * inF), B: new Float32Array(outF * r), gate: 1 });
    }
  }
  return out;
}

export interface LoraInit { r: number; alpha: number; targetModules: LoraTarget[]; baseModel?: string; gate?: number }

/** A fresh adapter as PEFT initialises it: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform a=sqrt(5)), B = 0. */
export function createLoraAdapter(c: ModelConfig, init: LoraInit, rand: () => number): LoraAdapter {
  checkRank(init.r, init.alpha);
  const modules = modulesFor(c, init.targetModules, init.r);
  for (const m of modules) {
    const bound = 1 / Math.sqrt(m.inFeatures);
    for (let i = 0; i < m.A.length; i++) m.A[i] = (rand() * 2 - 1) * bound;
    m.gate = init.gate ?? 1;
  }
  return { r: init.r, alpha: init.alpha, scaling: init.alpha / init.r, targetModules: [...init.targetModules], baseModel: init.baseModel ?? '', modules };
}

function checkRank(r: number, alpha: number): void {
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA rank r must be a positive integer, got ${r}`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new Error(`LoRA lora_alpha must be a positive number, got ${alpha}`);
}

/** Reads the F32 / F16 / BF16 values of every tensor of a safetensors file held in memory. */
function readTensorsF32(bytes: Uint8Array, fileName: string): Map<string, { shape: number[]; data: Float32Array }> {
  if (bytes.byteLength < 8) throw new Error(`${fileName}: too short to be a safetensors file (${bytes.byteLength} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (n === 0 || 8 + n > bytes.byteLength) throw new Error(`${fileName}: header length ${n} does not fit the file (${bytes.byteLength} bytes)`);
  let json: unknown;
  try { json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))); } catch (e) { throw new Error(`${fileName}: header is not valid JSON (${(e as Error).message})`); }
  const header = validateSafetensorsHeader(json, n, fileName);
  if (bytes.byteLength < header.expectedBytes) throw new Error(`${fileName} is truncated: expected ${header.expectedBytes} bytes, got ${bytes.byteLength}`);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of header.tensors) {
    const raw = bytes.slice(header.dataStart + e.begin, header.dataStart + e.end);
    const count = e.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (e.dtype === 'F32') data = new Float32Array(raw.buffer, 0, count);
    else {
      const h = new Uint16Array(raw.buffer, 0, count);
      data = Float32Array.from(h, (v) => (e.dtype === 'F16' ? f16ToF32(v) : new Float32Array(new Uint32Array([v << 16]).buffer)[0]));
    }
    out.set(e.name, { shape: e.shape, data });
  }
  return out;
}

/**
 * Loads a PEFT LoRA adapter (adapter_config.json text + adapter_model.safetensors bytes) for `c`.
 * Gates start at 1. Errors name the file and the field or tensor.
 */
export function loadPeftAdapter(c: ModelConfig, adapterConfigJson: string, safetensors: Uint8Array, files = { config: 'adapter_config.json', weights: 'adapter_model.safetensors' }): LoraAdapter {
  let cfg: Record<string, unknown>;
  try { cfg = JSON.parse(adapterConfigJson) as Record<string, unknown>; } catch (e) { throw new Error(`${files.config}: not valid JSON (${(e as Error).message})`); }
  const bad = (field: string, why: string) => new Error(`${files.config}: field "${field}" ${why}`);
  if (cfg.peft_type !== 'LORA') throw bad('peft_type', `must be "LORA", got ${JSON.stringify(cfg.peft_type)}`);
  const r = cfg.r; const alpha = cfg.lora_alpha;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw bad('r', `must be a positive integer, got ${JSON.stringify(r)}`);
  if (typeof alpha !== 'number' || !(alpha > 0)) throw bad('lora_alpha', `must be a positive number, got ${JSON.stringify(alpha)}`);
  for (const f of ['use_dora', 'use_rslora', 'fan_in_fan_out'] as const) if (cfg[f] === true) throw bad(f, 'is true; only plain LoRA is supported');
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw bad('bias', `must be "none", got ${JSON.stringify(cfg.bias)}`);
  const tm = cfg.target_modules;
  if (!Array.isArray(tm) || tm.length === 0) throw bad('target_modules', 'must be a non-empty list of module names');
  for (const t of tm) if (!(LORA_TARGETS as readonly string[]).includes(t as string)) throw bad('target_modules', `has unsupported module ${JSON.stringify(t)} (supported: ${LORA_TARGETS.join(', ')})`);
  const targets = LORA_TARGETS.filter((t) => tm.includes(t));
  const modules = modulesFor(c, targets, r);
  const tensors = readTensorsF32(safetensors, files.weights);
  const used = new Set<string>();
  for (const m of modules) {
    for (const [which, arr, shape] of [['A', m.A, [r, m.inFeatures]], ['B', m.B, [m.outFeatures, r]]] as const) {
      const key = `base_model.model.${m.path}.lora_${which}.weight`;
      const t = tensors.get(key);
      if (!t) throw new Error(`${files.weights}: tensor "${key}" is missing`);
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) throw new Error(`${files.weights}: tensor "${key}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
      arr.set(t.data);
      used.add(key);
    }
  }
  const extra = [...tensors.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new Error(`${files.weights}: unexpected tensor "${extra[0]}"${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''} for target_modules ${targets.join(', ')}`);
  return { r, alpha, scaling: alpha / r, targetModules: targets, baseModel: typeof cfg.base_model_name_or_path === 'string' ? cfg.base_model_name_or_path : '', modules };
}

/** PEFT files for `a`, gates folded into B (B' = gate·B), so PEFT/HF load it as a plain LoRA. */
export function exportPeftAdapter(a: LoraAdapter): { adapterConfig: string; safetensors: Uint8Array } {
  const cfg: Record<string, unknown> = {
    alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: a.baseModel, bias: 'none', fan_in_fan_out: false,
    inference_mode: true, init_lora_weights: true, layer_replication: null, layers_pattern: null, layers_to_transform: null,
    loftq_config: {}, lora_alpha: a.alpha, lora_dropout: 0.0, megatron_config: null, megatron_core: 'megatron.core',
    modules_to_save: null, peft_type: 'LORA', r: a.r, rank_pattern: {}, revision: null, target_modules: [...a.targetModules],
    task_type: 'CAUSAL_LM', use_dora: false, use_rslora: false,
  };
  const sorted = Object.fromEntries(Object.keys(cfg).sort().map((k) => [k, cfg[k]]));
  const tensors = a.modules.flatMap((m) => {
    const B = Float32Array.from(m.B, (v) => v * m.gate);
    return [
      { name: `base_model.model.${m.path}.lora_A.weight`, dtype: 'F32' as const, shape: [a.r, m.inFeatures], data: new Uint8Array(Float32Array.from(m.A).buffer) },
      { name: `base_model.model.${m.path}.lora_B.weight`, dtype: 'F32' as const, shape: [m.outFeatures, a.r], data: new Uint8Array(B.buffer) },
    ];
  });
  return { adapterConfig: JSON.stringify(sorted, null, 2), safetensors: writeSafetensors(tensors, { format: 'pt' }) };
}
