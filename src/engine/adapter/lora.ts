// LoRA adapter on a subset of a decoder's linear modules, PEFT-compatible:
//   y = x·Wᵀ + b + gate · (alpha/r) · (x·Aᵀ)·Bᵀ      A (r, in), B (out, r), gate a learned scalar
// (gate = 1 reproduces PEFT's lora.Linear; PEFT export folds the gate into B).
// PEFT save format: adapter_config.json + adapter_model.safetensors with keys
// `base_model.model.<module path>.lora_{A,B}.weight`, F32, metadata {format: pt}.
import { f16ToF32 } from '../model/f16.ts';
import { validateSafetensorsHeader } from '../model/safetensors.ts';
import { writeSafetensors } from '../model/safetensors-write.ts';
import type { ModelConfig } from '../model/types.ts';

import { EMBED, FINAL_NORM, LINEAR_MODULE, LM_HEAD, LORA_TARGETS, type LoraTarget, layerPrefix, linearDims } from '../model/arch.ts';

export { LORA_TARGETS, type LoraTarget };

export interface LoraModule {
  /** HF module path, e.g. "model.layers.0.self_attn.q_proj" */
  path: string;
  layer: number;
  target: LoraTarget;
  /** name inside the layer, e.g. "self_attn.q_proj" (what ReferenceModel's LinearDelta receives) */
  module: string;
  inFeatures: number;
  outFeatures: number;
  /** this module's rank and lora_alpha (PEFT rank_pattern / alpha_pattern); scaling = alpha / r */
  r: number;
  alpha: number;
  A: Float32Array; // (r, in)
  B: Float32Array; // (out, r)
  gate: number;
}

export interface LoraAdapter {
  /** default rank and alpha (PEFT `r`, `lora_alpha`); each module carries its own */
  r: number;
  alpha: number;
  /** short names of the module kinds present */
  targetModules: LoraTarget[];
  /** decoder layers of the model it was made for (decides whether short PEFT target names cover the placement) */
  numLayers: number;
  baseModel: string;
  /** layer-major, then in LORA_TARGETS order */
  modules: LoraModule[];
}

/** One adapted (layer, module) with its rank and alpha: a placement is a list of these. */
export interface LoraModuleSpec { layer: number; target: LoraTarget; r: number; alpha: number }

/** alpha / r of a module (PEFT's lora.Linear scaling without rslora). */
export const loraScaling = (m: { r: number; alpha: number }): number => m.alpha / m.r;

/** Trainable parameters of a module at rank r: A (r, in) + B (out, r). */
export const loraModuleParams = (inF: number, outF: number, r: number): number => r * (inF + outF);

/** Trainable A and B parameters of an adapter (gates not counted). */
export const loraParamCount = (a: LoraAdapter): number => a.modules.reduce((s, m) => s + m.A.length + m.B.length, 0);

/** Module path inside a layer per target (the arch spec's names, model/arch.ts). */
export const LORA_SUBMODULE: Record<LoraTarget, string> = LINEAR_MODULE;
const SUB = LORA_SUBMODULE;

/** "r 4", or "r 1-6" for mixed per-module ranks. */
export function loraRankLabel(a: LoraAdapter): string {
  const rs = a.modules.map((m) => m.r); const lo = Math.min(...rs); const hi = Math.max(...rs);
  return lo === hi ? `r ${lo}` : `r ${lo}-${hi}`;
}

/** HF path of a (layer, target). */
export const loraModulePath = (layer: number, t: LoraTarget): string => `${layerPrefix(layer)}.${SUB[t]}`;

/** [in, out] features of a target module. */
export function loraModuleDims(c: ModelConfig, m: LoraTarget): [number, number] {
  return linearDims(c, m);
}

const order = (s: { layer: number; target: LoraTarget }) => s.layer * LORA_TARGETS.length + LORA_TARGETS.indexOf(s.target);

/** Zeroed modules for `specs` (sorted layer-major, then LORA_TARGETS order). */
function modulesFor(c: ModelConfig, specs: readonly LoraModuleSpec[]): LoraModule[] {
  const seen = new Set<string>();
  return [...specs].sort((a, b) => order(a) - order(b)).map((s) => {
    if (!Number.isInteger(s.layer) || s.layer < 0 || s.layer >= c.numLayers) throw new Error(`LoRA module ${s.target} at layer ${s.layer}: the model has layers 0..${c.numLayers - 1}`);
    if (!(LORA_TARGETS as readonly string[]).includes(s.target)) throw new Error(`LoRA module "${s.target}" is not one of ${LORA_TARGETS.join(', ')}`);
    checkRank(s.r, s.alpha, loraModulePath(s.layer, s.target));
    const path = loraModulePath(s.layer, s.target);
    if (seen.has(path)) throw new Error(`LoRA module ${path} is listed twice`);
    seen.add(path);
    const [inF, outF] = loraModuleDims(c, s.target);
    return { path, layer: s.layer, target: s.target, module: SUB[s.target], inFeatures: inF, outFeatures: outF, r: s.r, alpha: s.alpha, A: new Float32Array(s.r * inF), B: new Float32Array(outF * s.r), gate: 1 };
  });
}

/** Every layer's `targets` at rank r, alpha. */
export function uniformSpecs(c: ModelConfig, targets: readonly LoraTarget[], r: number, alpha: number): LoraModuleSpec[] {
  const out: LoraModuleSpec[] = [];
  for (let l = 0; l < c.numLayers; l++) for (const t of LORA_TARGETS) if (targets.includes(t)) out.push({ layer: l, target: t, r, alpha });
  return out;
}

/** `r`/`alpha` are the defaults; `modules` (a placement) overrides `targetModules` (= every layer at r). */
export interface LoraInit { r: number; alpha: number; targetModules?: LoraTarget[]; modules?: readonly LoraModuleSpec[]; baseModel?: string; gate?: number }

function adapterOf(c: ModelConfig, r: number, alpha: number, modules: LoraModule[], baseModel: string): LoraAdapter {
  if (modules.length === 0) throw new Error('LoRA adapter has no modules');
  const targetModules = LORA_TARGETS.filter((t) => modules.some((m) => m.target === t));
  return { r, alpha, targetModules, numLayers: c.numLayers, baseModel, modules };
}

/** A fresh adapter as PEFT initialises it: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform a=sqrt(5)), B = 0. */
export function createLoraAdapter(c: ModelConfig, init: LoraInit, rand: () => number): LoraAdapter {
  checkRank(init.r, init.alpha);
  const specs = init.modules ?? uniformSpecs(c, init.targetModules ?? [], init.r, init.alpha);
  const modules = modulesFor(c, specs);
  for (const m of modules) {
    const bound = 1 / Math.sqrt(m.inFeatures);
    for (let i = 0; i < m.A.length; i++) m.A[i] = (rand() * 2 - 1) * bound;
    m.gate = init.gate ?? 1;
  }
  return adapterOf(c, init.r, init.alpha, modules, init.baseModel ?? '');
}

function checkRank(r: number, alpha: number, where = 'LoRA'): void {
  if (!Number.isInteger(r) || r < 1) throw new Error(`${where}: rank r must be a positive integer, got ${r}`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new Error(`${where}: lora_alpha must be a positive number, got ${alpha}`);
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
    // A copy at offset 0 of its own buffer: a Node Buffer's slice() is a view into a pooled buffer
    // (byteOffset > 0), which reading raw.buffer from 0 would misread (values ~1e37 seen).
    const raw = Uint8Array.prototype.slice.call(bytes, header.dataStart + e.begin, header.dataStart + e.end);
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

/** PEFT's get_pattern_key: the first key of `pattern` with re.match(rf"(.*\.)?({key})$", path). */
function patternValue(pattern: Record<string, unknown>, path: string, field: string, file: string): unknown {
  for (const [key, v] of Object.entries(pattern)) {
    let re: RegExp;
    try { re = new RegExp(`^(?:.*\\.)?(?:${key})$`); } catch (e) { throw new Error(`${file}: field "${field}" key ${JSON.stringify(key)} is not a valid regular expression (${(e as Error).message})`); }
    if (re.test(path)) return v;
  }
  return undefined;
}

/** PEFT's check_target_module_exists for a module path (target_modules as a regex string or a list of names/suffixes,
 *  layers_to_transform, exclude_modules). */
function peftTargets(cfg: Record<string, unknown>, path: string, layer: number, file: string): boolean {
  const suffixMatch = (list: unknown[], key: string) => list.some((t) => key === t || key.endsWith(`.${String(t)}`));
  const ex = cfg.exclude_modules;
  if (typeof ex === 'string' && fullMatch(ex, path, 'exclude_modules', file)) return false;
  if (Array.isArray(ex) && suffixMatch(ex, path)) return false;
  const tm = cfg.target_modules;
  if (typeof tm === 'string') return fullMatch(tm, path, 'target_modules', file);
  if (!Array.isArray(tm)) return false;
  if (!tm.includes(path) && !suffixMatch(tm, path)) return false;
  if (tm.includes(path)) return true;
  const lt = cfg.layers_to_transform;
  if (typeof lt === 'number') return lt === layer;
  if (Array.isArray(lt) && lt.length) return lt.includes(layer);
  return true;
}

function fullMatch(pattern: string, key: string, field: string, file: string): boolean {
  try { return new RegExp(`^(?:${pattern})$`).test(key); } catch (e) { throw new Error(`${file}: field "${field}" ${JSON.stringify(pattern)} is not a valid regular expression (${(e as Error).message})`); }
}

/** Modules PEFT would never adapt here (embeddings, head): a config that targets them is refused. */
const UNSUPPORTED_PATHS = [EMBED, LM_HEAD, FINAL_NORM].map((n) => n.replace(/\.weight$/, ''));

/**
 * Loads a PEFT LoRA adapter (adapter_config.json text + adapter_model.safetensors bytes) for `c`,
 * with PEFT's module matching (target_modules list or regex, layers_to_transform, exclude_modules)
 * and per-module ranks / alphas from rank_pattern / alpha_pattern. Gates start at 1.
 * Errors name the file and the field or tensor.
 */
export function loadPeftAdapter(c: ModelConfig, adapterConfigJson: string, safetensors: Uint8Array, files = { config: 'adapter_config.json', weights: 'adapter_model.safetensors' }): LoraAdapter {
  let cfg: Record<string, unknown>;
  try { cfg = JSON.parse(adapterConfigJson) as Record<string, unknown>; } catch (e) { throw new Error(`${files.config}: not valid JSON (${(e as Error).message})`); }
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`${files.config}: must be a JSON object`);
  const bad = (field: string, why: string) => new Error(`${files.config}: field "${field}" ${why}`);
  if (cfg.peft_type !== 'LORA') throw bad('peft_type', `must be "LORA", got ${JSON.stringify(cfg.peft_type)}`);
  const r = cfg.r; const alpha = cfg.lora_alpha;
  const isRank = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  const isAlpha = (v: unknown): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v);
  if (!isRank(r)) throw bad('r', `must be a positive integer, got ${JSON.stringify(r)}`);
  if (!isAlpha(alpha)) throw bad('lora_alpha', `must be a positive number, got ${JSON.stringify(alpha)}`);
  for (const f of ['use_dora', 'use_rslora', 'fan_in_fan_out'] as const) if (cfg[f] === true) throw bad(f, 'is true; only plain LoRA is supported');
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw bad('bias', `must be "none", got ${JSON.stringify(cfg.bias)}`);
  const tm = cfg.target_modules;
  if (typeof tm === 'string') { if (!tm) throw bad('target_modules', 'is an empty pattern'); }
  else if (!Array.isArray(tm) || tm.length === 0) throw bad('target_modules', 'must be a non-empty list of module names or a regular expression');
  const patterns: Record<string, Record<string, unknown>> = {};
  for (const f of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = cfg[f] ?? {};
    if (typeof v !== 'object' || Array.isArray(v) || v === null) throw bad(f, `must be an object mapping module names to numbers, got ${JSON.stringify(v)}`);
    patterns[f] = v as Record<string, unknown>;
  }
  const specs: LoraModuleSpec[] = [];
  for (let l = 0; l < c.numLayers; l++) for (const t of LORA_TARGETS) {
    const path = loraModulePath(l, t);
    if (!peftTargets(cfg, path, l, files.config)) continue;
    const mr = patternValue(patterns.rank_pattern, path, 'rank_pattern', files.config) ?? r;
    const ma = patternValue(patterns.alpha_pattern, path, 'alpha_pattern', files.config) ?? alpha;
    if (!isRank(mr)) throw bad('rank_pattern', `gives ${path} rank ${JSON.stringify(mr)}; ranks must be positive integers`);
    if (!isAlpha(ma)) throw bad('alpha_pattern', `gives ${path} alpha ${JSON.stringify(ma)}; alphas must be positive numbers`);
    specs.push({ layer: l, target: t, r: mr, alpha: ma });
  }
  for (const p of UNSUPPORTED_PATHS) {
    if (peftTargets(cfg, p, -1, files.config)) throw bad('target_modules', `adapts ${JSON.stringify(p)}, which is not supported (supported: ${LORA_TARGETS.join(', ')})`);
  }
  if (Array.isArray(tm)) {
    for (const t of tm) {
      const hits = specs.some((s) => { const path = loraModulePath(s.layer, s.target); return path === t || path.endsWith(`.${String(t)}`); });
      if (!hits && !uniformSpecs(c, LORA_TARGETS, 1, 1).some((s) => { const path = loraModulePath(s.layer, s.target); return path === t || path.endsWith(`.${String(t)}`); })) {
        throw bad('target_modules', `has unsupported module ${JSON.stringify(t)} (supported: ${LORA_TARGETS.join(', ')}, or their full paths in this ${c.numLayers}-layer model)`);
      }
    }
  }
  if (specs.length === 0) throw bad('target_modules', `matches no linear module of this ${c.numLayers}-layer model (${JSON.stringify(tm)})`);
  const modules = modulesFor(c, specs);
  const tensors = readTensorsF32(safetensors, files.weights);
  const used = new Set<string>();
  for (const m of modules) {
    for (const [which, arr, shape] of [['A', m.A, [m.r, m.inFeatures]], ['B', m.B, [m.outFeatures, m.r]]] as const) {
      const key = `base_model.model.${m.path}.lora_${which}.weight`;
      const t = tensors.get(key);
      if (!t) throw new Error(`${files.weights}: tensor "${key}" is missing`);
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) throw new Error(`${files.weights}: tensor "${key}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] (rank ${m.r} from ${files.config})`);
      arr.set(t.data);
      used.add(key);
    }
  }
  const extra = [...tensors.keys()].filter((k) => !used.has(k));
  const targets = LORA_TARGETS.filter((t) => modules.some((m) => m.target === t));
  if (extra.length) throw new Error(`${files.weights}: unexpected tensor "${extra[0]}"${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''} for target_modules ${targets.join(', ')}`);
  return adapterOf(c, r, alpha, modules, typeof cfg.base_model_name_or_path === 'string' ? cfg.base_model_name_or_path : '');
}

/** PEFT's LoraConfig fields for `a`'s placement: target_modules (short names when every layer of each kind is
 *  adapted, else full module paths), r / lora_alpha defaults, and rank_pattern / alpha_pattern by full path. */
export function peftPlacementConfig(a: LoraAdapter): { target_modules: string[]; r: number; lora_alpha: number; rank_pattern: Record<string, number>; alpha_pattern: Record<string, number> } {
  const everyLayer = a.modules.length === a.targetModules.length * a.numLayers; // modules are distinct (layer, target) pairs
  const rank_pattern: Record<string, number> = {}; const alpha_pattern: Record<string, number> = {};
  for (const m of a.modules) {
    if (m.r !== a.r) rank_pattern[m.path] = m.r;
    if (m.alpha !== a.alpha) alpha_pattern[m.path] = m.alpha;
  }
  return { target_modules: everyLayer ? [...a.targetModules] : a.modules.map((m) => m.path), r: a.r, lora_alpha: a.alpha, rank_pattern, alpha_pattern };
}

/** PEFT files for `a`, gates folded into B (B' = gate·B), so PEFT/HF load it as a plain LoRA. */
export function exportPeftAdapter(a: LoraAdapter): { adapterConfig: string; safetensors: Uint8Array } {
  const p = peftPlacementConfig(a);
  const cfg: Record<string, unknown> = {
    alpha_pattern: p.alpha_pattern, auto_mapping: null, base_model_name_or_path: a.baseModel, bias: 'none', fan_in_fan_out: false,
    inference_mode: true, init_lora_weights: true, layer_replication: null, layers_pattern: null, layers_to_transform: null,
    loftq_config: {}, lora_alpha: p.lora_alpha, lora_dropout: 0.0, megatron_config: null, megatron_core: 'megatron.core',
    modules_to_save: null, peft_type: 'LORA', r: p.r, rank_pattern: p.rank_pattern, revision: null, target_modules: p.target_modules,
    task_type: 'CAUSAL_LM', use_dora: false, use_rslora: false,
  };
  const sorted = Object.fromEntries(Object.keys(cfg).sort().map((k) => [k, cfg[k]]));
  const tensors = a.modules.flatMap((m) => {
    const B = Float32Array.from(m.B, (v) => v * m.gate);
    return [
      { name: `base_model.model.${m.path}.lora_A.weight`, dtype: 'F32' as const, shape: [m.r, m.inFeatures], data: new Uint8Array(Float32Array.from(m.A).buffer) },
      { name: `base_model.model.${m.path}.lora_B.weight`, dtype: 'F32' as const, shape: [m.outFeatures, m.r], data: new Uint8Array(B.buffer) },
    ];
  });
  return { adapterConfig: JSON.stringify(sorted, null, 2), safetensors: writeSafetensors(tensors, { format: 'pt' }) };
}
