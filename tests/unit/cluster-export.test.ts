// "Export for a cluster" (src/share/cluster-export.ts): the files' formats: TRL conversational
// prompt-completion JSONL with segment weights, the PEFT LoraConfig of a sparse placement, the
// accelerate DeepSpeed ZeRO-3 config, and a Python script that compiles.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLoraAdapter } from '../../src/engine/adapter/lora.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { type ClusterRow, clusterExportFiles } from '../../src/share/cluster-export.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

const config = parseModelConfig(readFileSync('models/tiny/config.json', 'utf8'), 'models/tiny/config.json');
const adapter = createLoraAdapter(config, { r: 2, alpha: 4, modules: [
  { layer: 0, target: 'q_proj', r: 3, alpha: 6 }, { layer: 1, target: 'down_proj', r: 2, alpha: 4 }, { layer: 1, target: 'v_proj', r: 1, alpha: 2 },
] }, mulberry32(1));
const traces = [
  { id: 'p:0', problem: 'Tom has 3 apples and buys 4 more. How many?', reasoning: 'Strategy: add the two amounts.\nStep 1: 3 + 4 = 7.\nFinal answer: 7', answer: '7' },
  { id: 'p:1', problem: 'A box holds 6 eggs. How many eggs in 2 boxes?', reasoning: 'Plan: multiply boxes by eggs per box.\nSteps: 2 * 6 = 12.', answer: '12' },
];
const loss = { strategy: 0.5, tactics: 1, answer: 2 };
const files = () => clusterExportFiles({ traces, adapter, baseModel: 'Qwen/Qwen2.5-14B-Instruct', loss, lr: 1e-4, epochs: 3, maxLength: 4096 });

describe('export for a cluster', () => {
  it('writes the five files', () => {
    expect(Object.keys(files()).sort()).toEqual(['README.md', 'accelerate_zero3.yaml', 'data/train.jsonl', 'lora_config.json', 'train_sft.py']);
  });

  it('README says how many traces MAX_LENGTH cuts, from the traces\' token counts', () => {
    expect(files()['README.md']).not.toMatch(/Length:/); // no token counts: nothing claimed
    const counted = traces.map((t, i) => ({ ...t, tokenCounts: { problem: 20, reasoning: i === 0 ? 5000 : 100, answer: 4, method: 'estimate' } }));
    const readme = clusterExportFiles({ traces: counted, adapter, baseModel: 'Qwen/Qwen2.5-14B-Instruct', loss, lr: 1e-4, epochs: 3, maxLength: 4096 })['README.md'];
    expect(readme).toContain('Length: T = 4096 cuts 1 of 2 traces (50%) by 944 tokens'); // 20 + 5000 + 4 + 16 template tokens - 4096
    expect(readme).toContain('T = 5120 keeps 95% whole');
  });

  it('data/train.jsonl: one TRL conversational prompt-completion row per trace; segments tile the completion; weights sum to the lambdas', () => {
    const lines = files()['data/train.jsonl'].trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries()) {
      const row = JSON.parse(line) as ClusterRow;
      expect(Object.keys(row).sort()).toEqual(['completion', 'id', 'prompt', 'segments']);
      expect(row.id).toBe(traces[i].id);
      expect(row.prompt).toEqual([{ role: 'user', content: traces[i].problem }]);
      expect(row.completion).toHaveLength(1);
      expect(row.completion[0].role).toBe('assistant');
      const text = row.completion[0].content;
      expect(text.startsWith(traces[i].reasoning.slice(0, 10))).toBe(true);
      expect(row.segments[0].start).toBe(0);
      for (let k = 1; k < row.segments.length; k++) expect(row.segments[k].start).toBe(row.segments[k - 1].end);
      expect(row.segments.at(-1)!.end).toBe(text.length);
      const byKind = new Map<string, number>();
      for (const s of row.segments) byKind.set(s.kind, (byKind.get(s.kind) ?? 0) + s.weight);
      const lam = { strategy: 0.5, tactic: 1, answer: 2 } as Record<string, number>;
      for (const [k, v] of byKind) expect(v).toBeCloseTo(lam[k], 12);
      expect(byKind.has('answer')).toBe(true);
    }
  });

  it('lora_config.json: the placement as PEFT LoraConfig kwargs (full-path target_modules, rank_pattern, alpha_pattern)', () => {
    const cfg = JSON.parse(files()['lora_config.json']) as Record<string, unknown>;
    expect(cfg).toEqual({
      target_modules: ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.v_proj', 'model.layers.1.mlp.down_proj'],
      r: 2, lora_alpha: 4,
      rank_pattern: { 'model.layers.0.self_attn.q_proj': 3, 'model.layers.1.self_attn.v_proj': 1 },
      alpha_pattern: { 'model.layers.0.self_attn.q_proj': 6, 'model.layers.1.self_attn.v_proj': 2 },
      lora_dropout: 0, bias: 'none', task_type: 'CAUSAL_LM', use_rslora: false, use_dora: false,
    });
  });

  it('accelerate_zero3.yaml is DeepSpeed ZeRO-3; train_sft.py names the student and compiles', () => {
    const f = files();
    const yaml = Object.fromEntries(f['accelerate_zero3.yaml'].split('\n').filter((l) => /^\s*\w+:/.test(l)).map((l) => l.trim().split(/:\s*/, 2) as [string, string]));
    expect(yaml.distributed_type).toBe('DEEPSPEED');
    expect(yaml.zero_stage).toBe('3');
    expect(Number(yaml.num_processes)).toBeGreaterThan(1);
    expect(f['train_sft.py']).toContain('BASE_MODEL = "Qwen/Qwen2.5-14B-Instruct"');
    expect(f['train_sft.py']).toContain('rank_pattern');
    if (existsSync('/usr/bin/python3')) {
      const dir = mkdtempSync(join(tmpdir(), 'rb-cluster-'));
      writeFileSync(join(dir, 'train_sft.py'), f['train_sft.py']);
      execFileSync('/usr/bin/python3', ['-m', 'py_compile', join(dir, 'train_sft.py')]);
    }
  });

  it('bad input: no traces, no model name', () => {
    expect(() => clusterExportFiles({ traces: [], adapter, baseModel: 'x', loss, lr: 1e-4, epochs: 1, maxLength: 10 })).toThrow(/no traces/);
    expect(() => clusterExportFiles({ traces, adapter, baseModel: ' ', loss, lr: 1e-4, epochs: 1, maxLength: 10 })).toThrow(/name the Hugging Face model/);
  });
});

describe('the cluster run\'s output imports back through PEFT import', () => {
  it('a PEFT save of lora_config.json (sets reordered, PEFT defaults added) loads with the same placement', async () => {
    const { loadPeftAdapter } = await import('../../src/engine/adapter/lora.ts');
    const { writeSafetensors } = await import('../../src/engine/model/safetensors-write.ts');
    const cfg = JSON.parse(files()['lora_config.json']) as Record<string, unknown>;
    // PeftConfig.save_pretrained: target_modules is a set (order not kept), every field written, sorted keys
    const saved = { ...cfg, target_modules: [...(cfg.target_modules as string[])].reverse(), peft_type: 'LORA', base_model_name_or_path: 'Qwen/Qwen2.5-14B-Instruct', fan_in_fan_out: false, inference_mode: true, layers_to_transform: null, layers_pattern: null, modules_to_save: null };
    const tensors = adapter.modules.flatMap((m) => [
      { name: `base_model.model.${m.path}.lora_A.weight`, dtype: 'F32' as const, shape: [m.r, m.inFeatures], data: new Uint8Array(new Float32Array(m.r * m.inFeatures).fill(0.01).buffer) },
      { name: `base_model.model.${m.path}.lora_B.weight`, dtype: 'F32' as const, shape: [m.outFeatures, m.r], data: new Uint8Array(new Float32Array(m.r * m.outFeatures).fill(0.02).buffer) },
    ]);
    const back = loadPeftAdapter(config, JSON.stringify(saved), writeSafetensors(tensors, { format: 'pt' }));
    expect(back.modules.map((m) => [m.path, m.r, m.alpha])).toEqual(adapter.modules.map((m) => [m.path, m.r, m.alpha]));
  });
});
