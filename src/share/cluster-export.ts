// "Export for a cluster": what a distributed trainer (TRL + accelerate with DeepSpeed ZeRO-3) needs
// to train the same sparse adapter on a student too large for the laptop. Pure: files as text.
//   data/train.jsonl      TRL conversational prompt-completion rows
//                         {"id", "prompt": [{"role":"user",...}], "completion": [{"role":"assistant",...}],
//                          "segments": [{"kind","start","end","weight"}]}  (char spans of the completion
//                          content; weight = lambda_kind spread over the kind's characters' tokens, as in the app)
//   lora_config.json      PEFT LoraConfig kwargs of the placement (target_modules, r, lora_alpha,
//                         rank_pattern, alpha_pattern)
//   train_sft.py          TRL SFTTrainer with the segment-weighted loss; saves a PEFT adapter that the
//                         Train view's "Load a PEFT adapter" imports
//   accelerate_zero3.yaml accelerate config: DeepSpeed ZeRO-3 over the node's GPUs
//   README.md             how to run it
import type { LoraAdapter } from '../engine/adapter/lora.ts';
import { peftPlacementConfig } from '../engine/adapter/lora.ts';
import { type TrainTrace, replyPieces } from '../distill/examples.ts';
import type { LossWeights } from '../distill/settings.ts';
import type { TokenCounts } from '../domain/trace.ts';
import { describeCuts, traceTokens } from './trace-cuts.ts';

export interface ClusterExportInput {
  traces: ReadonlyArray<TrainTrace & { tokenCounts?: TokenCounts }>;
  /** the placement to train (its A/B values are not exported: the cluster trains from scratch) */
  adapter: LoraAdapter;
  /** Hugging Face id of the student to train on the cluster */
  baseModel: string;
  loss: LossWeights;
  lr: number;
  epochs: number;
  maxLength: number;
  /** the model the placement was solved on (its layer indices and shapes) */
  placedOn?: string;
}

export interface ClusterSegment { kind: 'strategy' | 'tactic' | 'check' | 'answer'; start: number; end: number; weight: number }
export interface ClusterRow {
  id: string;
  prompt: Array<{ role: 'user'; content: string }>;
  completion: Array<{ role: 'assistant'; content: string }>;
  segments: ClusterSegment[];
}

/** One TRL conversational prompt-completion row per trace with reply segments and their loss weights. */
export function clusterRow(t: TrainTrace, w: LossWeights): ClusterRow {
  const pieces = replyPieces(t);
  const lambda = { strategy: w.strategy, tactic: w.tactics, check: w.check ?? w.tactics, answer: w.answer };
  // without a check weight, checks share the tactics' mean (as src/distill/examples.ts)
  const group = (k: ClusterSegment['kind']) => (k === 'check' && w.check === undefined ? 'tactic' : k);
  const chars = { strategy: 0, tactic: 0, check: 0, answer: 0 };
  for (const p of pieces) chars[group(p.kind)] += p.text.length;
  let at = 0;
  const segments: ClusterSegment[] = [];
  for (const p of pieces) {
    // each kind carries lambda_kind in total, split over its spans by length (the app splits by tokens)
    segments.push({ kind: p.kind, start: at, end: at + p.text.length, weight: chars[group(p.kind)] ? (lambda[p.kind] * p.text.length) / chars[group(p.kind)] : 0 });
    at += p.text.length;
  }
  return { id: t.id, prompt: [{ role: 'user', content: t.problem }], completion: [{ role: 'assistant', content: pieces.map((p) => p.text).join('') }], segments };
}

export function clusterLoraConfig(a: LoraAdapter): Record<string, unknown> {
  const p = peftPlacementConfig(a);
  return { ...p, lora_dropout: 0.0, bias: 'none', task_type: 'CAUSAL_LM', use_rslora: false, use_dora: false };
}

export const ACCELERATE_ZERO3_YAML = `compute_environment: LOCAL_MACHINE
distributed_type: DEEPSPEED
deepspeed_config:
  zero_stage: 3
  offload_optimizer_device: none
  offload_param_device: none
  zero3_init_flag: true
  zero3_save_16bit_model: true
mixed_precision: bf16
machine_rank: 0
num_machines: 1
num_processes: 8
main_training_function: main
rdzv_backend: static
same_network: true
use_cpu: false
`;

export function trainScript(i: Pick<ClusterExportInput, 'baseModel' | 'lr' | 'epochs' | 'maxLength'>): string {
  return `#!/usr/bin/env python3
"""Trains the ReasonBridge sparse adapter exported by the playground (TRL SFTTrainer + PEFT).

    accelerate launch --config_file accelerate_zero3.yaml train_sft.py

Data: data/train.jsonl (TRL conversational prompt-completion rows plus "segments": character spans
of the completion with their loss weights). Loss = sum over completion tokens of weight * CE, the
playground's hierarchical distillation loss. Adapter: lora_config.json (PEFT LoraConfig kwargs with
rank_pattern / alpha_pattern). Output: out/adapter (adapter_config.json + adapter_model.safetensors),
which the playground's Train view loads with "Load a PEFT adapter".
"""
import json
import os

import torch
from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoTokenizer
from trl import SFTConfig, SFTTrainer

BASE_MODEL = ${JSON.stringify(i.baseModel)}
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LENGTH = ${i.maxLength}


def prepare(row, tokenizer):
    """input_ids of chat(prompt) + completion, per-token loss weights from the segments (prompt: 0)."""
    prompt_ids = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True)
    text = row["completion"][0]["content"]
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(prompt_ids) + enc["input_ids"] + [tokenizer.eos_token_id]
    weights = [0.0] * len(prompt_ids)
    seg_of = []
    for (a, _b) in enc["offset_mapping"]:
        seg_of.append(next((k for k, s in enumerate(row["segments"]) if s["start"] <= a < s["end"]), None))
    counts = [seg_of.count(k) for k in range(len(row["segments"]))]
    for k in seg_of:
        weights.append(0.0 if k is None else row["segments"][k]["weight"] / max(1, counts[k]))
    weights.append(weights[-1] if len(weights) > len(prompt_ids) else 0.0)  # end of turn: with the last piece
    ids, weights = ids[:MAX_LENGTH], weights[:MAX_LENGTH]
    return {"input_ids": ids, "loss_weights": weights}


class WeightedSFTTrainer(SFTTrainer):
    """SFTTrainer with the per-token weighted cross-entropy (weights shifted with the labels)."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        weights = inputs.pop("loss_weights")
        inputs.pop("labels", None)
        out = model(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"))
        logits = out.logits[:, :-1].float()
        target = inputs["input_ids"][:, 1:]
        w = weights[:, 1:].to(logits.dtype)
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1), reduction="none")
        loss = (ce * w.reshape(-1)).sum() / max(1, weights.size(0))
        return (loss, out) if return_outputs else loss


def collate(batch, pad_id):
    n = max(len(b["input_ids"]) for b in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    w = torch.zeros((len(batch), n))
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    for i, b in enumerate(batch):
        k = len(b["input_ids"])
        ids[i, :k] = torch.tensor(b["input_ids"])
        w[i, :k] = torch.tensor(b["loss_weights"])
        mask[i, :k] = 1
    return {"input_ids": ids, "attention_mask": mask, "loss_weights": w}


def main():
    tokenizer = AutoTokenizer.from_pretrained(BASE_MODEL)
    data = load_dataset("json", data_files=os.path.join(HERE, "data", "train.jsonl"), split="train")
    data = data.map(lambda r: prepare(r, tokenizer), remove_columns=data.column_names)
    lora = LoraConfig(**json.load(open(os.path.join(HERE, "lora_config.json"))))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    args = SFTConfig(
        output_dir=os.path.join(HERE, "out"), learning_rate=${i.lr}, num_train_epochs=${i.epochs},
        per_device_train_batch_size=1, gradient_accumulation_steps=4, lr_scheduler_type="cosine", warmup_ratio=0.03,
        bf16=True, logging_steps=10, save_strategy="no", remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True},
        max_length=MAX_LENGTH,
    )
    trainer = WeightedSFTTrainer(model=BASE_MODEL, args=args, train_dataset=data, peft_config=lora,
                                 data_collator=lambda b: collate(b, pad_id), processing_class=tokenizer)
    trainer.train()
    trainer.model.save_pretrained(os.path.join(HERE, "out", "adapter"))


if __name__ == "__main__":
    main()
`;
}

/** Every file of the export, by relative path. */
export function clusterExportFiles(i: ClusterExportInput): Record<string, string> {
  if (i.traces.length === 0) throw new Error('export for a cluster: the selection has no traces');
  if (!i.baseModel.trim()) throw new Error('export for a cluster: name the Hugging Face model to train (e.g. Qwen/Qwen2.5-14B-Instruct)');
  const rows = i.traces.map((t) => clusterRow(t, i.loss)).filter((r) => r.completion[0].content.length > 0);
  const cfg = clusterLoraConfig(i.adapter);
  // how many traces MAX_LENGTH cuts (from the traces' token counts, where they carry them)
  const counted = i.traces.filter((t) => t.tokenCounts).map((t) => traceTokens(t as { tokenCounts: TokenCounts }));
  const cuts = counted.length ? `\nLength: ${describeCuts(counted, i.maxLength)} (MAX_LENGTH in train_sft.py; token counts of ${counted.length} of ${i.traces.length} traces, as stored: the tokenizer's or a chars/4 estimate).\n` : '';
  return {
    'data/train.jsonl': rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
    'lora_config.json': JSON.stringify(cfg, null, 2) + '\n',
    'train_sft.py': trainScript(i),
    'accelerate_zero3.yaml': ACCELERATE_ZERO3_YAML,
    'README.md': `# ReasonBridge sparse adapter: cluster export\n\n${rows.length} examples, student \`${i.baseModel}\`, ${i.adapter.modules.length} adapted modules (ranks ${Math.min(...i.adapter.modules.map((m) => m.r))}-${Math.max(...i.adapter.modules.map((m) => m.r))}).\n\n\`\`\`\npip install trl peft transformers accelerate deepspeed datasets\naccelerate launch --config_file accelerate_zero3.yaml train_sft.py\n\`\`\`\n\nThe placement (layer indices, ranks) was solved on \`${i.placedOn ?? 'the loaded student'}\`: it applies as is to that student or one of the same shape.\n\nSet \`num_processes\` in accelerate_zero3.yaml to the GPUs of the node. The adapter lands in \`out/adapter\`;\nload its two files in the playground's Train view ("Load a PEFT adapter") for the same student.\n${cuts}`,
  };
}
