#!/usr/bin/python3
"""Independent golden fixtures for the WebGPU student engine, from PyTorch re-implementations of
Hugging Face's forward passes (NOT from our own code).

DEV TOOL, NOT RUN BY CI (CI has no torch). The outputs are committed under tests/fixtures/golden/;
the tests read those files only. Regenerate (Debian: `apt-get install python3-torch`, no PyPI):

    /usr/bin/python3 scripts/golden/make_golden.py            # from the repository root

What it mirrors (read through the code search on huggingface/transformers):
  * src/transformers/models/qwen2/modeling_qwen2.py @ 00d4b3d2142cb4ced2f51b90614b5d26bc045015
    (Qwen2RMSNorm, Qwen2RotaryEmbedding.compute_default_rope_parameters/forward, rotate_half,
    apply_rotary_pos_emb, repeat_kv, eager_attention_forward, Qwen2Attention: q/k/v bias=True,
    o_proj bias=False, head_dim = config.head_dim, scaling = head_dim**-0.5, Qwen2MLP).
  * src/transformers/models/llama/modeling_llama.py @ 002272831fba584eb30dca9729c1be456836960a
    (LlamaRMSNorm, LlamaRotaryEmbedding, rotate_half, repeat_kv, LlamaMLP; q/k/v/o bias =
    config.attention_bias, MLP bias = config.mlp_bias). That stored version still derives
    head_dim = hidden/heads; current transformers reads config.head_dim exactly as the Qwen2 file
    above does (o_proj: heads*head_dim -> hidden), which is what the llama fixture exercises.
  HF dtype details reproduced: RMSNorm computes in float32 (`hidden_states.to(torch.float32)`)
  and returns `weight * normed.to(input_dtype)`; RoPE inv_freq = 1/theta^(arange(0,D,2)/D) in
  float32, angles position*inv_freq and cos/sin in float32, then cast to the activation dtype;
  softmax(dtype=float32); causal mask = finfo(dtype).min above the diagonal. The committed logits
  are the float64 run ("model.double()"); the float32 run is computed too and its max deviation is
  written to the fixture as evidence for test tolerances.
  * LoRA as in huggingface/peft src/peft/tuners/lora/layer.py (Linear.forward):
    result = base(x) + lora_B(lora_A(dropout(x))) * scaling, scaling = lora_alpha / r;
    lora_A.weight (r, in), lora_B.weight (out, r).
  * PEFT save format as in huggingface/peft src/peft/utils/save_and_load.py
    @ 000b5847eb29dc424dbbf7d9e071b21b83889563 (get_peft_model_state_dict drops the adapter name:
    `...q_proj.lora_A.default.weight` is saved as `...q_proj.lora_A.weight`, prefixed by
    `base_model.model.`; bias="none" saves only lora_ tensors) and PeftConfigMixin.save_pretrained
    (adapter_config.json = the LoraConfig fields, json indent 2, sorted keys);
    adapter_model.safetensors with metadata {"format": "pt"}, float32 tensors.

Outputs (tests/fixtures/golden/):
  tiny-logits.json            (a) logits of models/tiny (Qwen2, tied head, q/k/v biases, GQA 2:1)
  llama-gqa/config.json + model.safetensors + llama-logits.json
                              (b) random LlamaForCausalLM: untied head, no biases, rope_theta 5e5,
                                  eps 1e-5, GQA 4:1, head_dim 16 != hidden/heads = 12; F16 weights
  peft-tiny-lora/adapter_config.json + adapter_model.safetensors
                              (d) a PEFT LoRA adapter on q_proj, v_proj of models/tiny
  peft-tiny-lora-patterns/ + tiny-lora-patterns-logits.json
                              (e) a PEFT adapter with rank_pattern / alpha_pattern (per-module r, alpha)
                                  and its float64 logits (`--only-patterns` writes just these)
  tiny-lora-grads.json        (c) CE loss + logits with that adapter, and d loss / d every lora_A, lora_B
                                  (pure float64 autograd: the same math without HF's f32 islands, so
                                  that a central finite difference can check it; it does, below)
"""
import json
import math
import os
import re
import struct
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "golden")

DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


# --- safetensors without the safetensors package: 8-byte LE header length, JSON header, raw bytes ---
def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        s, e = v["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + s:base + e]), dtype=DTYPES[v["dtype"]])
        out[name] = t.reshape(v["shape"]).to(torch.float32)  # F16/BF16 -> f32 is exact
    return out


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> torch tensor (written in its own dtype), in sorted order like safetensors."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        b = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


# --- the HF forward --------------------------------------------------------------------------------
class Cfg:
    def __init__(self, c):
        self.arch = c["architectures"][0]
        self.V = c["vocab_size"]
        self.C = c["hidden_size"]
        self.F = c["intermediate_size"]
        self.L = c["num_hidden_layers"]
        self.H = c["num_attention_heads"]
        self.KV = c.get("num_key_value_heads", self.H)
        self.D = c.get("head_dim") or self.C // self.H
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.theta = c.get("rope_theta", 10000.0)
        self.tied = c.get("tie_word_embeddings", False)
        qwen = self.arch == "Qwen2ForCausalLM"
        self.qkv_bias = True if qwen else c.get("attention_bias", False)
        self.o_bias = False if qwen else c.get("attention_bias", False)
        self.mlp_bias = False if qwen else c.get("mlp_bias", False)
        # the 2026 students (issue 21; see STUDENTS below for the files mirrored)
        gemma = self.arch == "Gemma3ForCausalLM"
        self.gemma = gemma
        self.qk_norm = self.arch in ("Qwen3ForCausalLM", "Gemma3ForCausalLM")
        self.rope_scaling = c.get("rope_scaling")
        if self.arch == "SmolLM3ForCausalLM":
            self.use_rope = c.get("no_rope_layers") or [int((l + 1) % c.get("no_rope_layer_interval", 4) != 0) for l in range(self.L)]
        else:
            self.use_rope = [1] * self.L
        if gemma:
            types = c.get("layer_types") or ["full_attention" if (l + 1) % c.get("sliding_window_pattern", 6) == 0 else "sliding_attention" for l in range(self.L)]
            self.window = [c["sliding_window"] if t == "sliding_attention" else 0 for t in types]
            self.layer_theta = [c.get("rope_local_base_freq", 10000.0) if t == "sliding_attention" else self.theta for t in types]
            self.scaling = c.get("query_pre_attn_scalar", 256) ** -0.5
        else:
            self.window = [0] * self.L
            self.layer_theta = [self.theta] * self.L
            self.scaling = self.D ** -0.5


def rms_norm(x, w, eps, hf_casts=True, gemma=False):  # Qwen2RMSNorm / LlamaRMSNorm / Qwen3RMSNorm
    input_dtype = x.dtype
    h = x.to(torch.float32) if hf_casts else x
    variance = h.pow(2).mean(-1, keepdim=True)
    h = h * torch.rsqrt(variance + eps)
    if gemma:  # Gemma3RMSNorm: output = norm(x.float()) * (1.0 + weight.float()), then type_as(x)
        return (h * (1.0 + (w.float() if hf_casts else w))).to(input_dtype)
    return w * h.to(input_dtype)


def llama3_inv_freq(inv_freq, s):  # modeling_rope_utils._compute_llama3_parameters
    factor, lo, hi, old = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
    low_freq_wavelen = old / lo
    high_freq_wavelen = old / hi
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old / wavelen - lo) / (hi - lo)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def rope_cos_sin(cfg, T, dtype, theta=None, scaling=None):  # compute_default_rope_parameters + RotaryEmbedding.forward
    inv_freq = 1.0 / ((theta or cfg.theta) ** (torch.arange(0, cfg.D, 2, dtype=torch.int64).to(dtype=torch.float) / cfg.D))
    if scaling and scaling.get("rope_type", scaling.get("type")) == "llama3":
        inv_freq = llama3_inv_freq(inv_freq, scaling)
    pos = torch.arange(T)[None, :].float()
    freqs = (inv_freq[None, :, None].float() @ pos[:, None, :]).transpose(1, 2)[0]  # (T, D/2) f32
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rope_cos_sin_exact(cfg, T, dtype, theta=None, scaling=None):  # same formula, every step in `dtype`
    inv_freq = 1.0 / ((theta or cfg.theta) ** (torch.arange(0, cfg.D, 2, dtype=dtype) / cfg.D))
    if scaling and scaling.get("rope_type", scaling.get("type")) == "llama3":
        inv_freq = llama3_inv_freq(inv_freq, scaling)
    freqs = torch.arange(T, dtype=dtype)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(h, n_rep):  # (KV, T, D) -> (KV*n_rep, T, D), query head i reads kv head i // n_rep
    kv, t, d = h.shape
    if n_rep == 1:
        return h
    return h[:, None, :, :].expand(kv, n_rep, t, d).reshape(kv * n_rep, t, d)


def linear(x, W, name, bias, lora=None):
    y = x @ W[name + ".weight"].T
    if bias:
        y = y + W[name + ".bias"]
    if lora is not None and name in lora["A"]:  # peft lora.Linear: + B(A(x)) * alpha/r (dropout 0)
        s = lora["scaling"][name] if isinstance(lora["scaling"], dict) else lora["scaling"]  # per module (rank/alpha_pattern)
        y = y + (x @ lora["A"][name].T @ lora["B"][name].T) * s
    return y


def forward(cfg, W, ids, dtype, lora=None, hf_casts=True):
    """Logits (T, V) of one sequence starting at position 0, eager attention. hf_casts: HF's float32
    islands (RMSNorm, softmax, RoPE tables); False = the same math all in `dtype` (for autograd)."""
    W = {k: v.to(dtype) for k, v in W.items()}
    if lora is not None:
        lora = {"scaling": lora["scaling"], "A": {k: v.to(dtype) for k, v in lora["A"].items()},
                "B": {k: v.to(dtype) for k, v in lora["B"].items()}}
    T = len(ids)
    G = cfg.gemma
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    if G:  # Gemma3TextScaledWordEmbedding: * embed_scale (a float32 buffer) .to(weight dtype)
        x = x * torch.tensor(cfg.C ** 0.5, dtype=torch.float32).to(dtype)
    ropes = {}
    for l in range(cfg.L):
        key = cfg.layer_theta[l]
        if key not in ropes:
            sc = None if G else cfg.rope_scaling  # Gemma 3 local layers: default RoPE at rope_local_base_freq
            ropes[key] = rope_cos_sin(cfg, T, dtype, key, sc) if hf_casts else rope_cos_sin_exact(cfg, T, dtype, key, sc)
    causal = torch.full((T, T), torch.finfo(dtype).min, dtype=dtype).triu(1)
    for l in range(cfg.L):
        p = f"model.layers.{l}"
        mask = causal
        if cfg.window[l]:  # sliding_window_overlay: kv_idx > q_idx - sliding_window
            far = torch.arange(T)[:, None] - torch.arange(T)[None, :] >= cfg.window[l]
            mask = causal.masked_fill(far, torch.finfo(dtype).min)
        residual = x
        h = rms_norm(x, W[f"{p}.input_layernorm.weight"], cfg.eps, hf_casts, G)
        q = linear(h, W, f"{p}.self_attn.q_proj", cfg.qkv_bias, lora).view(T, -1, cfg.D)
        k = linear(h, W, f"{p}.self_attn.k_proj", cfg.qkv_bias, lora).view(T, -1, cfg.D)
        v = linear(h, W, f"{p}.self_attn.v_proj", cfg.qkv_bias, lora).view(T, -1, cfg.D).transpose(0, 1)
        if cfg.qk_norm:  # Qwen3Attention / Gemma3Attention: q_norm(q_proj(h).view(hidden_shape)) before RoPE
            q = rms_norm(q, W[f"{p}.self_attn.q_norm.weight"], cfg.eps, hf_casts, G)
            k = rms_norm(k, W[f"{p}.self_attn.k_norm.weight"], cfg.eps, hf_casts, G)
        q = q.transpose(0, 1)
        k = k.transpose(0, 1)
        if cfg.use_rope[l]:  # SmolLM3Attention.use_rope = no_rope_layers[layer_idx]
            cos, sin = ropes[cfg.layer_theta[l]]
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        k = repeat_kv(k, cfg.H // cfg.KV)
        v = repeat_kv(v, cfg.H // cfg.KV)
        att = (q @ k.transpose(1, 2)) * cfg.scaling + mask
        att = torch.nn.functional.softmax(att, dim=-1, dtype=torch.float32 if hf_casts else dtype).to(dtype)
        a = (att @ v).transpose(0, 1).reshape(T, -1)
        o = linear(a, W, f"{p}.self_attn.o_proj", cfg.o_bias, lora)
        if G:  # Gemma3DecoderLayer: post_attention_layernorm on the attention output, then the residual
            o = rms_norm(o, W[f"{p}.post_attention_layernorm.weight"], cfg.eps, hf_casts, G)
        x = residual + o
        residual = x
        h = rms_norm(x, W[f"{p}.pre_feedforward_layernorm.weight" if G else f"{p}.post_attention_layernorm.weight"], cfg.eps, hf_casts, G)
        g = linear(h, W, f"{p}.mlp.gate_proj", cfg.mlp_bias, lora)
        u = linear(h, W, f"{p}.mlp.up_proj", cfg.mlp_bias, lora)
        act = torch.nn.functional.gelu(g, approximate="tanh") if G else torch.nn.functional.silu(g)  # gelu_pytorch_tanh
        m = linear(act * u, W, f"{p}.mlp.down_proj", cfg.mlp_bias, lora)
        if G:
            m = rms_norm(m, W[f"{p}.post_feedforward_layernorm.weight"], cfg.eps, hf_casts, G)
        x = residual + m
    x = rms_norm(x, W["model.norm.weight"], cfg.eps, hf_casts, G)
    head = W["model.embed_tokens.weight"] if cfg.tied else W["lm_head.weight"]
    return x @ head.T


def causal_lm_loss(logits, ids):  # transformers ForCausalLMLoss: shift by one, mean CE
    return torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="mean")


def fixed_ids(n, vocab, a, b):
    return [3 + (i * a + b) % (vocab - 3) for i in range(n)]


def r6(t):
    return [round(float(v), 6) for v in t.reshape(-1)]


def r9(t):
    return [float("%.9g" % float(v)) for v in t.reshape(-1)]


def logits_fixture(name, cfg, W, ids, source):
    l64 = forward(cfg, W, ids, torch.float64)
    l32 = forward(cfg, W, ids, torch.float32).to(torch.float64)
    lx = forward(cfg, W, ids, torch.float64, hf_casts=False)
    dev = float((l64 - l32).abs().max())
    devx = float((l64 - lx).abs().max())
    print(f"{name}: T={len(ids)} V={cfg.V} |logit| max {float(l64.abs().max()):.3f}, "
          f"f32-vs-f64 max dev {dev:.2e}, HF-casts-vs-pure-f64 max dev {devx:.2e}")
    return {
        "source": source,
        "torch": torch.__version__,
        "model": name,
        "ids": ids,
        "vocab_size": cfg.V,
        "logits": r6(l64),  # row-major (T, V), float64 run rounded to 1e-6
        "argmax": [int(i) for i in l64.argmax(-1)],
        "logsumexp": r6(torch.logsumexp(l64, -1)),
        "f32_vs_f64_max_abs": dev,
        "hf_casts_vs_pure_f64_max_abs": devx,
    }


def make_llama(dirpath):
    cfg_json = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": 320,
        "hidden_size": 48,
        "intermediate_size": 96,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "hidden_act": "silu",
        "max_position_embeddings": 256,
        "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float16",
    }
    cfg = Cfg(cfg_json)
    g = torch.Generator().manual_seed(20261126)

    def rnd(*shape, std):
        return (torch.randn(*shape, generator=g) * std).to(torch.float16)

    C, F, V, D, H, KV = cfg.C, cfg.F, cfg.V, cfg.D, cfg.H, cfg.KV
    W = {"model.embed_tokens.weight": rnd(V, C, std=1.0), "lm_head.weight": rnd(V, C, std=C ** -0.5 * 2),
         "model.norm.weight": (1 + rnd(C, std=0.2).float()).to(torch.float16)}
    for l in range(cfg.L):
        p = f"model.layers.{l}"
        W[f"{p}.input_layernorm.weight"] = (1 + rnd(C, std=0.2).float()).to(torch.float16)
        W[f"{p}.post_attention_layernorm.weight"] = (1 + rnd(C, std=0.2).float()).to(torch.float16)
        W[f"{p}.self_attn.q_proj.weight"] = rnd(H * D, C, std=C ** -0.5 * 1.5)
        W[f"{p}.self_attn.k_proj.weight"] = rnd(KV * D, C, std=C ** -0.5 * 1.5)
        W[f"{p}.self_attn.v_proj.weight"] = rnd(KV * D, C, std=C ** -0.5)
        W[f"{p}.self_attn.o_proj.weight"] = rnd(C, H * D, std=(H * D) ** -0.5)
        W[f"{p}.mlp.gate_proj.weight"] = rnd(F, C, std=C ** -0.5)
        W[f"{p}.mlp.up_proj.weight"] = rnd(F, C, std=C ** -0.5)
        W[f"{p}.mlp.down_proj.weight"] = rnd(C, F, std=F ** -0.5)
    os.makedirs(dirpath, exist_ok=True)
    json.dump(cfg_json, open(os.path.join(dirpath, "config.json"), "w"), indent=2)
    write_safetensors(os.path.join(dirpath, "model.safetensors"), W, {"format": "pt"})
    return cfg


LORA_R, LORA_ALPHA, LORA_TARGETS = 4, 8, ["q_proj", "v_proj"]
BASE = "models/tiny"


def peft_adapter_config():
    # LoraConfig fields as PeftConfigMixin.save_pretrained writes them (sorted, indent 2).
    return {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": BASE,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layer_replication": None,
        "layers_pattern": None,
        "layers_to_transform": None,
        "loftq_config": {},
        "lora_alpha": LORA_ALPHA,
        "lora_dropout": 0.0,
        "megatron_config": None,
        "megatron_core": "megatron.core",
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": LORA_R,
        "rank_pattern": {},
        "revision": None,
        "target_modules": sorted(LORA_TARGETS),
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": False,
    }


def make_lora(cfg, W, ids, adapter_dir):
    g = torch.Generator().manual_seed(7)
    A, B = {}, {}
    for l in range(cfg.L):
        for m in LORA_TARGETS:
            name = f"model.layers.{l}.self_attn.{m}"
            out_f, in_f = W[name + ".weight"].shape
            # A like PEFT's kaiming-uniform(a=sqrt(5)) init: U(-1/sqrt(in), 1/sqrt(in)); B nonzero
            # (PEFT starts B at 0; a trained adapter has B != 0, which makes both grads nonzero).
            A[name] = ((torch.rand(LORA_R, in_f, generator=g) * 2 - 1) / math.sqrt(in_f)).to(torch.float32)
            B[name] = (torch.randn(out_f, LORA_R, generator=g) * 0.2).to(torch.float32)
    os.makedirs(adapter_dir, exist_ok=True)
    json.dump(peft_adapter_config(), open(os.path.join(adapter_dir, "adapter_config.json"), "w"), indent=2, sort_keys=True)
    tensors = {}
    for name in A:
        tensors[f"base_model.model.{name}.lora_A.weight"] = A[name]
        tensors[f"base_model.model.{name}.lora_B.weight"] = B[name]
    write_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"), tensors, {"format": "pt"})

    scaling = LORA_ALPHA / LORA_R
    A64 = {k: v.to(torch.float64).requires_grad_(True) for k, v in A.items()}
    B64 = {k: v.to(torch.float64).requires_grad_(True) for k, v in B.items()}
    lora = {"scaling": scaling, "A": A64, "B": B64}
    logits = forward(cfg, W, ids, torch.float64, lora, hf_casts=False)
    loss = causal_lm_loss(logits, ids)
    loss.backward()
    base_loss = causal_lm_loss(forward(cfg, W, ids, torch.float64, hf_casts=False), ids)

    # self-check: central finite difference on one element of each gradient
    for name in A:
        for P, grads in ((A64, A64[name]), (B64, B64[name])):
            with torch.no_grad():
                idx = (1, 2)
                old = float(P[name][idx])
                h = 1e-5
                P[name][idx] = old + h
                lp = float(causal_lm_loss(forward(cfg, W, ids, torch.float64, lora, hf_casts=False), ids))
                P[name][idx] = old - h
                lm = float(causal_lm_loss(forward(cfg, W, ids, torch.float64, lora, hf_casts=False), ids))
                P[name][idx] = old
            fd = (lp - lm) / (2 * h)
            an = float(grads.grad[idx])
            assert abs(fd - an) <= 1e-6 + 1e-5 * abs(an), (name, fd, an)

    grads = {}
    for name in A:
        grads[f"base_model.model.{name}.lora_A.weight"] = {"shape": list(A[name].shape), "grad": r9(A64[name].grad)}
        grads[f"base_model.model.{name}.lora_B.weight"] = {"shape": list(B[name].shape), "grad": r9(B64[name].grad)}
    print(f"lora: loss {float(loss):.6f} (base {float(base_loss):.6f}), {len(grads)} grads, finite-difference check passed")
    with torch.no_grad():
        l = logits.detach()
    return {
        "source": "scripts/golden/make_golden.py (torch autograd, float64, HF Qwen2 + PEFT lora.Linear)",
        "torch": torch.__version__,
        "base_model": BASE,
        "adapter": "tests/fixtures/golden/peft-tiny-lora",
        "r": LORA_R,
        "lora_alpha": LORA_ALPHA,
        "scaling": scaling,
        "ids": ids,
        "loss_definition": "mean over t=0..T-2 of cross_entropy(logits[t], ids[t+1]) (transformers ForCausalLMLoss)",
        "loss": float("%.12g" % float(loss)),
        "base_loss": float("%.12g" % float(base_loss)),
        "logits": r6(l),
        "argmax": [int(i) for i in l.argmax(-1)],
        "grads": grads,
    }


def get_pattern_key(pattern_keys, key_to_match):
    """peft src/peft/utils/other.py get_pattern_key @ 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40 (first match wins)."""
    for key in pattern_keys:
        if re.match(rf"(.*\.)?({key})$", key_to_match):
            return key
    return key_to_match


def make_lora_patterns(cfg, W, ids, adapter_dir):
    """(e) a PEFT adapter with rank_pattern / alpha_pattern, resolved as peft's LoraModel._create_and_replace
    does (r = rank_pattern.get(get_pattern_key(...), r), same for alpha), and its float64 logits."""
    targets = ["down_proj", "k_proj", "q_proj"]
    r0, a0 = 2, 4
    rank_pattern = {"layers.0.self_attn.q_proj": 6, "^model.layers.1.mlp.down_proj": 1, "q_proj": 3}
    alpha_pattern = {"k_proj": 3, r"layers\.1\.self_attn\.q_proj": 12}
    g = torch.Generator().manual_seed(11)
    A, B, scaling, ranks = {}, {}, {}, {}
    for l in range(cfg.L):
        for m, sub in (("q_proj", "self_attn"), ("k_proj", "self_attn"), ("down_proj", "mlp")):
            name = f"model.layers.{l}.{sub}.{m}"
            r = rank_pattern.get(get_pattern_key(rank_pattern.keys(), name), r0)
            alpha = alpha_pattern.get(get_pattern_key(alpha_pattern.keys(), name), a0)
            out_f, in_f = W[name + ".weight"].shape
            A[name] = ((torch.rand(r, in_f, generator=g) * 2 - 1) / math.sqrt(in_f)).to(torch.float32)
            B[name] = (torch.randn(out_f, r, generator=g) * 0.2).to(torch.float32)
            scaling[name] = alpha / r
            ranks[name] = [r, alpha]
    cfgj = peft_adapter_config()
    cfgj.update({"r": r0, "lora_alpha": a0, "target_modules": targets, "rank_pattern": rank_pattern, "alpha_pattern": alpha_pattern})
    os.makedirs(adapter_dir, exist_ok=True)
    json.dump(cfgj, open(os.path.join(adapter_dir, "adapter_config.json"), "w"), indent=2, sort_keys=True)
    tensors = {}
    for name in A:
        tensors[f"base_model.model.{name}.lora_A.weight"] = A[name]
        tensors[f"base_model.model.{name}.lora_B.weight"] = B[name]
    write_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"), tensors, {"format": "pt"})
    lora = {"scaling": scaling, "A": {k: v.to(torch.float64) for k, v in A.items()}, "B": {k: v.to(torch.float64) for k, v in B.items()}}
    with torch.no_grad():
        logits = forward(cfg, W, ids, torch.float64, lora, hf_casts=False)
    print(f"lora patterns: ranks/alphas {ranks}")
    return {
        "source": "scripts/golden/make_golden.py make_lora_patterns (peft get_pattern_key mirrored with Python re)",
        "adapter": "tests/fixtures/golden/peft-tiny-lora-patterns",
        "ids": ids,
        "modules": ranks,
        "logits": r6(logits),
    }


# --- the 2026 students (issue 21): tiny random models of each architecture ---------------------------
# Mirrored from huggingface/transformers (read through the code search; written from those files):
#   models/qwen3/modeling_qwen3.py: Qwen3Attention q_norm/k_norm = Qwen3RMSNorm(head_dim) on
#     q_proj(h).view(..., head_dim) before apply_rotary_pos_emb; attention_bias default False.
#   models/llama/modeling_llama.py + modeling_rope_utils.py: _compute_llama3_parameters (above).
#   models/smollm3/modeling_smollm3.py: SmolLM3Attention.use_rope = config.no_rope_layers[layer_idx].
#   models/gemma3/modeling_gemma3.py: Gemma3RMSNorm (1 + w), four norms per layer (input, post_attention,
#     pre_feedforward, post_feedforward), q_norm/k_norm, scaling = query_pre_attn_scalar**-0.5, sliding
#     layers with rope_local_base_freq and a window of sliding_window keys, embeddings * hidden**0.5,
#     Gemma3MLP with gelu_pytorch_tanh.
STUDENTS = {
    "qwen3": {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "head_dim": 16, "rope_theta": 1000000.0,
              "tie_word_embeddings": True, "attention_bias": False},
    "llama32": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "rope_theta": 500000.0, "tie_word_embeddings": True,
                "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 32}},
    "smollm3": {"architectures": ["SmolLM3ForCausalLM"], "model_type": "smollm3", "rope_theta": 5000000.0,
                "tie_word_embeddings": True, "num_hidden_layers": 4, "no_rope_layers": [1, 1, 1, 0]},
    "gemma3": {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "head_dim": 16, "num_key_value_heads": 1,
               "num_hidden_layers": 3, "layer_types": ["sliding_attention", "sliding_attention", "full_attention"],
               "sliding_window": 7, "query_pre_attn_scalar": 12, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
               "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True},
}


def make_student(name, dirpath):
    cfg_json = {"vocab_size": 320, "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 2, "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "hidden_act": "silu",
                "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16", **STUDENTS[name]}
    cfg = Cfg(cfg_json)
    g = torch.Generator().manual_seed(20261207 + len(name))

    def rnd(*shape, std):
        return (torch.randn(*shape, generator=g) * std).to(torch.float16)

    def norm(n):  # Gemma stores w of (1 + w)
        return rnd(n, std=0.2) if cfg.gemma else (1 + rnd(n, std=0.2).float()).to(torch.float16)

    C, F, V, D, H, KV = cfg.C, cfg.F, cfg.V, cfg.D, cfg.H, cfg.KV
    W = {"model.embed_tokens.weight": rnd(V, C, std=0.5 if cfg.gemma else 1.0), "model.norm.weight": norm(C)}
    if not cfg.tied:
        W["lm_head.weight"] = rnd(V, C, std=C ** -0.5 * 2)
    for l in range(cfg.L):
        p = f"model.layers.{l}"
        W[f"{p}.input_layernorm.weight"] = norm(C)
        W[f"{p}.post_attention_layernorm.weight"] = norm(C)
        if cfg.gemma:
            W[f"{p}.pre_feedforward_layernorm.weight"] = norm(C)
            W[f"{p}.post_feedforward_layernorm.weight"] = norm(C)
        if cfg.qk_norm:
            W[f"{p}.self_attn.q_norm.weight"] = norm(D)
            W[f"{p}.self_attn.k_norm.weight"] = norm(D)
        W[f"{p}.self_attn.q_proj.weight"] = rnd(H * D, C, std=C ** -0.5 * 1.5)
        W[f"{p}.self_attn.k_proj.weight"] = rnd(KV * D, C, std=C ** -0.5 * 1.5)
        W[f"{p}.self_attn.v_proj.weight"] = rnd(KV * D, C, std=C ** -0.5)
        W[f"{p}.self_attn.o_proj.weight"] = rnd(C, H * D, std=(H * D) ** -0.5)
        W[f"{p}.mlp.gate_proj.weight"] = rnd(F, C, std=C ** -0.5)
        W[f"{p}.mlp.up_proj.weight"] = rnd(F, C, std=C ** -0.5)
        W[f"{p}.mlp.down_proj.weight"] = rnd(C, F, std=F ** -0.5)
    os.makedirs(dirpath, exist_ok=True)
    json.dump(cfg_json, open(os.path.join(dirpath, "config.json"), "w"), indent=2)
    write_safetensors(os.path.join(dirpath, "model.safetensors"), W, {"format": "pt"})
    return cfg


def make_students():
    src = "scripts/golden/make_golden.py (PyTorch mirror of HF modeling_qwen3/llama(llama3 rope)/smollm3/gemma3, float64)"
    for name in STUDENTS:
        d = os.path.join(OUT, f"student-{name}")
        cfg = make_student(name, d)
        W = read_safetensors(os.path.join(d, "model.safetensors"))
        fx = logits_fixture(f"tests/fixtures/golden/student-{name}", cfg, W, fixed_ids(40, cfg.V, 31, 7), src)
        json.dump(fx, open(os.path.join(d, "logits.json"), "w"))


def main():
    torch.set_num_threads(1)
    if "--only-students" in sys.argv:
        make_students()
        return 0
    if "--only-patterns" in sys.argv:
        tiny_cfg = Cfg(json.load(open(os.path.join(ROOT, BASE, "config.json"))))
        tiny_W = read_safetensors(os.path.join(ROOT, BASE, "model.safetensors"))
        fx = make_lora_patterns(tiny_cfg, tiny_W, fixed_ids(12, tiny_cfg.V, 37, 3), os.path.join(OUT, "peft-tiny-lora-patterns"))
        json.dump(fx, open(os.path.join(OUT, "tiny-lora-patterns-logits.json"), "w"))
        return 0
    os.makedirs(OUT, exist_ok=True)
    src = "scripts/golden/make_golden.py (PyTorch mirror of HF modeling_qwen2/modeling_llama, float64)"

    tiny_cfg_json = json.load(open(os.path.join(ROOT, BASE, "config.json")))
    tiny_cfg = Cfg(tiny_cfg_json)
    tiny_W = read_safetensors(os.path.join(ROOT, BASE, "model.safetensors"))
    tiny_ids = fixed_ids(24, tiny_cfg.V, 53, 17)
    fx = logits_fixture(BASE, tiny_cfg, tiny_W, tiny_ids, src)
    json.dump(fx, open(os.path.join(OUT, "tiny-logits.json"), "w"))

    llama_dir = os.path.join(OUT, "llama-gqa")
    llama_cfg = make_llama(llama_dir)
    llama_W = read_safetensors(os.path.join(llama_dir, "model.safetensors"))  # as the engine will see it
    llama_ids = fixed_ids(24, llama_cfg.V, 29, 5)
    fx = logits_fixture("tests/fixtures/golden/llama-gqa", llama_cfg, llama_W, llama_ids, src)
    json.dump(fx, open(os.path.join(OUT, "llama-logits.json"), "w"))

    lora_ids = fixed_ids(16, tiny_cfg.V, 71, 9)
    fx = make_lora(tiny_cfg, tiny_W, lora_ids, os.path.join(OUT, "peft-tiny-lora"))
    json.dump(fx, open(os.path.join(OUT, "tiny-lora-grads.json"), "w"))
    fx = make_lora_patterns(tiny_cfg, tiny_W, fixed_ids(12, tiny_cfg.V, 37, 3), os.path.join(OUT, "peft-tiny-lora-patterns"))
    json.dump(fx, open(os.path.join(OUT, "tiny-lora-patterns-logits.json"), "w"))
    make_students()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT}: {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
