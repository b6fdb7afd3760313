#!/usr/bin/python3
"""Pretrains the tiny-world student (Qwen2 architecture) on the token stream written by
scripts/make-tiny-world.ts. BUILD-TIME TOOL (Debian's python3-torch); nothing that runs or tests
the app needs it. Run it through `npm run make:tiny-world`, which writes the corpus first.

    /usr/bin/python3 scripts/world/pretrain.py --corpus build/tiny-world/corpus.u16 \
        --config models/tiny-world/config.json --out models/tiny-world/model.safetensors \
        --steps 6000 --batch 32 --seq 128 --seed 7

The model mirrors Hugging Face's Qwen2 forward exactly as scripts/golden/make_golden.py does
(RMSNorm in f32, rotate_half RoPE, q/k/v biases, no o_proj bias, GQA by repeat_kv, SwiGLU, tied
head), batched; our WebGPU decoder reads the F16 safetensors it writes.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from make_golden import read_safetensors  # noqa: E402  (the one reader of our safetensors)


class Qwen2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C, Hq, Hk, D, Fd, V = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["intermediate_size"], c["vocab_size"]
        self.embed = nn.Embedding(V, C)
        self.layers = nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            l = nn.Module()
            l.ln1 = nn.Parameter(torch.ones(C)); l.ln2 = nn.Parameter(torch.ones(C))
            l.q = nn.Linear(C, Hq * D); l.k = nn.Linear(C, Hk * D); l.v = nn.Linear(C, Hk * D)
            l.o = nn.Linear(Hq * D, C, bias=False)
            l.gate = nn.Linear(C, Fd, bias=False); l.up = nn.Linear(C, Fd, bias=False); l.down = nn.Linear(Fd, C, bias=False)
            self.layers.append(l)
        self.norm = nn.Parameter(torch.ones(C))
        for n, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02 if "embed" not in n else 0.05)
            elif "bias" in n:
                nn.init.zeros_(p)
        for l in self.layers:  # GPT-2 style: residual projections scaled by depth
            nn.init.normal_(l.o.weight, std=0.02 / math.sqrt(2 * c["num_hidden_layers"]))
            nn.init.normal_(l.down.weight, std=0.02 / math.sqrt(2 * c["num_hidden_layers"]))

    def rms(self, x, w):
        eps = self.c["rms_norm_eps"]
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def forward(self, ids):  # ids (B,T) -> logits (B,T,V)
        c = self.c
        B, T = ids.shape
        Hq, Hk, D = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.float32) / D))
        ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
        emb = torch.cat([ang, ang], -1)
        cos, sin = emb.cos(), emb.sin()

        def rope(x):  # (B,H,T,D)
            x1, x2 = x[..., : D // 2], x[..., D // 2:]
            return x * cos + torch.cat([-x2, x1], -1) * sin

        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed(ids)
        for l in self.layers:
            h = self.rms(x, l.ln1)
            q = l.q(h).view(B, T, Hq, D).transpose(1, 2)
            k = l.k(h).view(B, T, Hk, D).transpose(1, 2)
            v = l.v(h).view(B, T, Hk, D).transpose(1, 2)
            q, k = rope(q), rope(k)
            rep = Hq // Hk
            k = k.repeat_interleave(rep, dim=1); v = v.repeat_interleave(rep, dim=1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(D) + mask
            o = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, Hq * D)
            x = x + l.o(o)
            h2 = self.rms(x, l.ln2)
            x = x + l.down(F.silu(l.gate(h2)) * l.up(h2))
        return self.rms(x, self.norm) @ self.embed.weight.T

    def hf_tensors(self):
        out = {"model.embed_tokens.weight": self.embed.weight, "model.norm.weight": self.norm}
        for i, l in enumerate(self.layers):
            p = f"model.layers.{i}"
            out[f"{p}.input_layernorm.weight"] = l.ln1
            out[f"{p}.post_attention_layernorm.weight"] = l.ln2
            for n, m in (("q", "q_proj"), ("k", "k_proj"), ("v", "v_proj")):
                out[f"{p}.self_attn.{m}.weight"] = getattr(l, n).weight
                out[f"{p}.self_attn.{m}.bias"] = getattr(l, n).bias
            out[f"{p}.self_attn.o_proj.weight"] = l.o.weight
            out[f"{p}.mlp.gate_proj.weight"] = l.gate.weight
            out[f"{p}.mlp.up_proj.weight"] = l.up.weight
            out[f"{p}.mlp.down_proj.weight"] = l.down.weight
        return out


def load_weights(model, path):
    """Copies a safetensors file of ours (HF names) into the model's parameters."""
    w = read_safetensors(path)
    with torch.no_grad():
        for name, p in model.hf_tensors().items():
            p.copy_(w[name])


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float16).contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def byte_decoder(tokenizer_path):
    """id -> bytes for the world's byte-level BPE (GPT-2's bytes_to_unicode), special tokens as text."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    k = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + k); k += 1
    u2b = {chr(c): b for b, c in zip(bs, cs)}
    tj = json.load(open(tokenizer_path))
    out = {i: bytes(u2b[ch] for ch in t) for t, i in tj["model"]["vocab"].items()}
    for t in tj.get("added_tokens", []):
        out[t["id"]] = t["content"].encode()
    return out


@torch.no_grad()
def probe(model, items, dec, max_new=72):
    """Greedy exact match on held-out drills ("a op b ="), bare problems worked to "answer N", and
    problems as a textbook prompt ("problem\\n") or a chat prompt, read to "\\boxed{N}"."""
    import re
    model.eval()
    hits = {}
    for it in items:
        k = it["kind"]
        ids = list(it["ids"])
        text = b""
        for _ in range({"drill": 8, "bare": max_new}.get(k, 200)):
            nxt = int(model(torch.tensor([ids]))[0, -1].argmax())
            if nxt in (0, 2):  # end of text / end of turn
                break
            ids.append(nxt)
            text += dec.get(nxt, b"")
            if k == "drill" and b"\n" in text:
                break
            if k == "bare" and re.search(rb"answer -?\d+\n", text):
                break
            if k in ("textbook", "chat") and re.search(rb"\\boxed\{-?\d+\}", text):
                break
        t = text.decode("utf-8", "replace")
        pat = {"drill": r"\s*(-?\d+)", "bare": r"answer (-?\d+)"}.get(k, r"\\boxed\{(-?\d+)\}")
        m = re.match(pat, t) if k == "drill" else re.search(pat, t)
        h = hits.setdefault(k, [0, 0])
        h[1] += 1
        h[0] += int(bool(m) and int(m.group(1)) == it["answer"])
    model.train()
    return " ".join(f"{k} {h}/{n} ({100 * h / max(1, n):.1f}%)" for k, (h, n) in hits.items())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=6000, help="0: only measure the probe on --init")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=96)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log", default="")
    ap.add_argument("--init", default="", help="continue from these weights (safetensors) instead of a fresh init")
    ap.add_argument("--probe", default="", help="probe.json from make:tiny-world: exact match on held-out drills and bare problems")
    ap.add_argument("--save-every", type=int, default=0, help="also write --out every N steps (a stopped run keeps its weights)")
    ap.add_argument("--tokenizer", default="", help="tokenizer.json, to read the probe's continuations")
    ap.add_argument("--probe-every", type=int, default=1000)
    ap.add_argument("--aligned", action="store_true", help="start every row at a document start (token 0 separates documents), so a long document is seen from its first token")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    cfg = json.load(open(a.config))
    raw = open(a.corpus, "rb").read()
    stream = torch.frombuffer(bytearray(raw), dtype=torch.int16).to(torch.int64) & 0xFFFF
    n = stream.numel()
    doc_starts = None
    if a.aligned:
        z = (stream == 0).nonzero().flatten() + 1
        doc_starts = torch.cat([torch.tensor([0]), z])
        doc_starts = doc_starts[doc_starts < n - a.seq - 1]
    model = Qwen2(cfg)
    params = sum(p.numel() for p in model.parameters())
    if a.init:
        load_weights(model, a.init)
        print(f"pretrain: continuing from {a.init}", flush=True)
    probes = json.load(open(a.probe)) if a.probe else []
    dec = byte_decoder(a.tokenizer) if probes else {}
    if probes:
        print(f"probe at start: {probe(model, probes, dec)}", flush=True)
    if a.steps == 0:
        return  # --steps 0 --init W --probe P: measure the probe on W and write nothing
    print(f"pretrain: {params} params, {n} corpus tokens, {a.steps} steps of {a.batch}x{a.seq}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.05)
    g = torch.Generator().manual_seed(a.seed)
    warm = max(1, a.steps // 30)
    t0 = time.time()
    logf = open(a.log, "w") if a.log else None
    ema = None
    for step in range(1, a.steps + 1):
        lr = a.lr * min(1.0, step / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / a.steps))))
        for pg in opt.param_groups:
            pg["lr"] = lr
        if doc_starts is not None:
            starts = doc_starts[torch.randint(0, doc_starts.numel(), (a.batch,), generator=g)]
        else:
            starts = torch.randint(0, n - a.seq - 1, (a.batch,), generator=g)
        idx = starts[:, None] + torch.arange(a.seq + 1)[None, :]
        chunk = stream[idx]
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 100 == 0 or step == a.steps:
            el = time.time() - t0
            line = f"step {step}/{a.steps} loss {ema:.4f} lr {lr:.2e} {el:.0f}s {step * a.batch * a.seq / el:.0f} tok/s"
            print(line, flush=True)
            if logf:
                logf.write(line + "\n"); logf.flush()
        if probes and (step % a.probe_every == 0 or step == a.steps):
            line = f"probe at step {step}: {probe(model, probes, dec)}"
            print(line, flush=True)
            if logf:
                logf.write(line + "\n"); logf.flush()
        if a.save_every and step % a.save_every == 0 and step < a.steps:
            # a long run on a shared machine may be stopped: keep the weights so far (same file, overwritten)
            write_safetensors(a.out, model.hf_tensors(), {"format": "pt", "made_by": f"partial: step {step} of {a.steps}", "final_loss": f"{ema:.4f}"})
    made = f"scripts/world/pretrain.py --steps {a.steps} --batch {a.batch} --seq {a.seq} --lr {a.lr} --seed {a.seed}" + (f" --init {a.init}" if a.init else "") + (" --aligned" if a.aligned else "")
    meta = {"format": "pt", "made_by": made, "final_loss": f"{ema:.4f}", "seconds": f"{time.time() - t0:.0f}"}
    write_safetensors(a.out, model.hf_tensors(), meta)
    print(f"wrote {a.out} ({params} params, final loss {ema:.4f}, {time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
