#!/usr/bin/python3
"""Golden logits for the bundled tiny model from an independent PyTorch forward pass written the
way Hugging Face transformers' modeling_qwen2 computes it (RMSNorm in f32, rotate_half RoPE with
inv_freq = 1/theta^(arange(0,D,2)/D), repeat_kv for grouped-query attention, causal softmax,
SwiGLU MLP, tied head). Writes tests/kernel/fixtures/tiny-golden.json, which the kernel test
tests/kernel/golden.test.ts compares the WebGPU decoder against. Needs only torch (Debian:
apt-get install python3-torch); the fixture is committed, so the test itself needs no Python.

    /usr/bin/python3 scripts/golden-tiny.py [models/tiny] [tests/kernel/fixtures/tiny-golden.json]
"""
import json
import struct
import sys

import torch

model_dir = sys.argv[1] if len(sys.argv) > 1 else "models/tiny"
out_path = sys.argv[2] if len(sys.argv) > 2 else "tests/kernel/fixtures/tiny-golden.json"
cfg = json.load(open(f"{model_dir}/config.json"))


def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    dtypes = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        s, e = v["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + s : base + e]), dtype=dtypes[v["dtype"]])
        out[name] = t.reshape(v["shape"]).to(torch.float64)
    return out


W = load_safetensors(f"{model_dir}/model.safetensors")
C = cfg["hidden_size"]
H = cfg["num_attention_heads"]
KV = cfg["num_key_value_heads"]
D = cfg.get("head_dim", C // H)
L = cfg["num_hidden_layers"]
eps = cfg["rms_norm_eps"]
theta = cfg["rope_theta"]
DT = torch.float64  # golden in double; HF's f32 rounding of the RoPE angle is reproduced below


def rms_norm(x, w):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(T):
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))  # f32 as HF
    freqs = torch.arange(T, dtype=torch.float32)[:, None] * inv_freq[None, :]  # f32 product as HF
    emb = torch.cat((freqs, freqs), dim=-1).to(DT)
    return emb.cos(), emb.sin()


def linear(x, name, bias=True):
    y = x @ W[f"{name}.weight"].T
    b = W.get(f"{name}.bias")
    return y + b if (bias and b is not None) else y


def forward(ids):
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]  # (T, C)
    cos, sin = rope_cos_sin(T)
    mask = torch.full((T, T), float("-inf"), dtype=DT).triu(1)
    for l in range(L):
        p = f"model.layers.{l}"
        h = rms_norm(x, W[f"{p}.input_layernorm.weight"])
        q = linear(h, f"{p}.self_attn.q_proj").view(T, H, D).transpose(0, 1)  # (H, T, D)
        k = linear(h, f"{p}.self_attn.k_proj").view(T, KV, D).transpose(0, 1)
        v = linear(h, f"{p}.self_attn.v_proj").view(T, KV, D).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = H // KV  # repeat_kv: query head h reads kv head h // rep
        k = k[:, None].expand(KV, rep, T, D).reshape(H, T, D)
        v = v[:, None].expand(KV, rep, T, D).reshape(H, T, D)
        att = torch.softmax(q @ k.transpose(1, 2) / D**0.5 + mask, dim=-1)
        a = (att @ v).transpose(0, 1).reshape(T, H * D)
        x = x + linear(a, f"{p}.self_attn.o_proj")
        h = rms_norm(x, W[f"{p}.post_attention_layernorm.weight"])
        g = linear(h, f"{p}.mlp.gate_proj")
        u = linear(h, f"{p}.mlp.up_proj")
        x = x + linear(torch.nn.functional.silu(g) * u, f"{p}.mlp.down_proj")
    x = rms_norm(x, W["model.norm.weight"])
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return x @ head.T  # (T, V)


prompt = [5 + (i * 37 + 11) % (cfg["vocab_size"] - 5) for i in range(32)]
logits = forward(prompt)
greedy, ids = [], list(prompt[:12])
for _ in range(8):
    nxt = int(forward(ids)[-1].argmax())
    greedy.append(nxt)
    ids.append(nxt)
fixture = {
    "source": "scripts/golden-tiny.py (PyTorch %s, float64, HF Qwen2 conventions)" % torch.__version__,
    "prompt": prompt,
    "logits_rows": {str(r): [round(float(v), 6) for v in logits[r]] for r in (0, 15, 31)},
    "argmax": [int(i) for i in logits.argmax(-1)],
    "logsumexp": [round(float(v), 6) for v in torch.logsumexp(logits, -1)],
    "greedy_prompt": prompt[:12],
    "greedy": greedy,
}
json.dump(fixture, open(out_path, "w"))
print(f"wrote {out_path}: prompt of {len(prompt)} tokens, greedy {greedy}")
