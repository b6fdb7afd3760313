#!/usr/bin/python3
"""PyTorch reference of the tiny-world adapter experiment (BUILD-TIME diagnostic, Debian's
python3-torch; nothing that runs or tests the app needs it). It trains the same student on the same
sequences the engine's loop gets (`npm run experiment:tiny -- ... --dump-sft FILE` writes them) and
grades greedy answers on the same held-out items, so a figure of ours can be told apart from a limit
of the student: LoRA on every linear layer at rank r, or a full fine-tune.

    /usr/bin/python3 scripts/world/finetune_check.py --sft build/tiny-world/sft.json --set reason1k \
        --mode lora --rank 4 --steps 320 --batch 16 --lr 1e-2

Loss: Σ_i w_i · CE_i per sequence (the hierarchical weights of src/distill/examples.ts), mean over
the batch, AdamW (0.9, 0.999, wd 0.01) with 5% warmup and cosine decay, grad-norm clip 1.
"""
import argparse
import json
import math
import os
import re
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pretrain import Qwen2, byte_decoder, load_weights  # noqa: E402  (the student's one torch mirror)


class LoraLinear(torch.nn.Module):
    """y = W x + b + (alpha/r) B A x, B = 0 at start (PEFT's lora.Linear)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.A = torch.nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.B = torch.nn.Parameter(torch.zeros(base.out_features, r))
        self.s = alpha / r

    def forward(self, x):
        return self.base(x) + self.s * (x @ self.A.T) @ self.B.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sft", required=True)
    ap.add_argument("--set", default="reason1k")
    ap.add_argument("--model", default="models/tiny-world")
    ap.add_argument("--mode", choices=["lora", "full"], default="lora")
    ap.add_argument("--rank", type=int, default=4)
    ap.add_argument("--steps", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-new", type=int, default=120)
    ap.add_argument("--test-n", type=int, default=0, help="grade only the first N test items (0: all)")
    ap.add_argument("--train-embed", action="store_true", help="LoRA mode: also train the (tied) token embeddings, like PEFT's modules_to_save=[embed_tokens]")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    model = Qwen2(cfg)
    load_weights(model, os.path.join(a.model, "model.safetensors"))
    base_params = sum(p.numel() for p in model.parameters())
    if a.mode == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for l in model.layers:
            for n in ("q", "k", "v", "o", "gate", "up", "down"):
                setattr(l, n, LoraLinear(getattr(l, n), a.rank, 2 * a.rank))
        if a.train_embed:
            model.embed.weight.requires_grad_(True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in trainable)
    data = json.load(open(a.sft))
    seqs = data["sets"][a.set]
    print(f"finetune_check: {a.mode}{' r=' + str(a.rank) if a.mode == 'lora' else ''}{' + embeddings' if a.train_embed else ''}, {n_train} trainable = {100 * n_train / base_params:.2f}% of {base_params}; {len(seqs)} sequences of {a.set}; {a.steps} steps of {a.batch}, lr {a.lr}", flush=True)
    opt = torch.optim.AdamW(trainable, lr=a.lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(a.seed)
    order, at = torch.randperm(len(seqs), generator=g).tolist(), 0
    warm = max(1, a.steps // 20)
    t0 = time.time()
    for step in range(1, a.steps + 1):
        lr = a.lr * min(1.0, step / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - 1) / a.steps)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        batch = []
        for _ in range(a.batch):
            if at == len(order):
                order, at = torch.randperm(len(seqs), generator=g).tolist(), 0
            batch.append(seqs[order[at]]); at += 1
        T = max(len(s["ids"]) for s in batch)
        ids = torch.zeros(len(batch), T, dtype=torch.long); tg = torch.zeros_like(ids); wt = torch.zeros(len(batch), T)
        for i, s in enumerate(batch):
            n = len(s["ids"])
            ids[i, :n] = torch.tensor(s["ids"]); tg[i, :n] = torch.tensor(s["targets"]).clamp(min=0); wt[i, :n] = torch.tensor(s["weights"])
        logits = model(ids)  # right padding: causal attention never lets a real position see it
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tg.reshape(-1), reduction="none").view_as(wt)
        loss = (ce * wt).sum() / len(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        if step % 20 == 0 or step == a.steps:
            print(f"step {step}/{a.steps} loss {loss.item():.3f} lr {lr:.2e} {time.time() - t0:.0f}s", flush=True)
    # greedy on the held-out items, graded by the boxed integer
    dec = byte_decoder(os.path.join(a.model, "tokenizer.json"))
    eos = {0} | {i for i, b in dec.items() if b in (b"<|im_end|>", b"<|endoftext|>")}
    model.eval()
    hits, by = 0, {}
    with torch.no_grad():
        test = data["test"][: a.test_n] if a.test_n else data["test"]
        for k, it in enumerate(test):
            ids = list(it["prompt"]); out = b""
            for _ in range(a.max_new):
                nxt = int(model(torch.tensor([ids[-512:]]))[0, -1].argmax())
                if nxt in eos:
                    break
                ids.append(nxt); out += dec.get(nxt, b"")
            text = out.decode("utf-8", "replace")
            m = re.findall(r"\\boxed\{(-?\d+)\}", text)
            ok = bool(m) and m[-1] == str(it["answer"]).strip()
            hits += ok
            d = by.setdefault(it.get("subject", "?"), [0, 0]); d[0] += ok; d[1] += 1
            if k < 3:
                print(f"  {json.dumps(text[:160])} (answer {it['answer']})", flush=True)
    n = len(test)
    print(f"accuracy: {100 * hits / n:.1f}% ({hits}/{n}) after {time.time() - t0:.0f} s; by domain: " + ", ".join(f"{s} {h}/{m}" for s, (h, m) in sorted(by.items())), flush=True)


if __name__ == "__main__":
    main()
