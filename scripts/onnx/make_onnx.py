#!/usr/bin/python3
"""ONNX export of a student decoder in the layout transformers.js loads, for the peer benchmark.

DEV TOOL (needs Debian's python3-torch and python3-onnx; CI only reads what it wrote):

    /usr/bin/python3 scripts/onnx/make_onnx.py models/tiny --out models/onnx/tiny       # committed
    /usr/bin/python3 scripts/onnx/make_onnx.py --qwen-shaped --layers 2                  # build/onnx/...

The graph is the PyTorch mirror of Hugging Face's Qwen2/Llama forward in scripts/golden/make_golden.py
(the golden fixtures' independent reference), with a KV cache, exported as transformers.js's
decoder-only models are (onnx-community/*: Qwen2 with past):
  in:  input_ids (batch, seq) int64, attention_mask (batch, total) int64, position_ids (batch, seq)
       int64, past_key_values.N.key / .value (batch, kv_heads, past, head_dim) float32
  out: logits (batch, seq, vocab) float32, present.N.key / .value (batch, kv_heads, total, head_dim)
Written: OUT/onnx/model.onnx (fp32 weights = the f16 weights of model.safetensors, exactly),
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


class OnnxDecoder(torch.nn.Module):
    """forward(input_ids, attention_mask, position_ids, past_k0, past_v0, ...) -> logits, present_k0, ..."""

    def __init__(self, cfg, W):
        super().__init__()
        self.cfg = cfg
        self.names = sorted(W)
        for i, n in enumerate(self.names):
            self.register_buffer(f"w{i}", W[n].to(torch.float32).contiguous())
        self.idx = {n: i for i, n in enumerate(self.names)}
        inv = 1.0 / (cfg.theta ** (torch.arange(0, cfg.D, 2, dtype=torch.int64).to(dtype=torch.float) / cfg.D))
        self.register_buffer("inv_freq", inv)

    def w(self, name):
        return getattr(self, f"w{self.idx[name]}")

    def lin(self, x, name, bias):
        y = x @ self.w(name + ".weight").T
        return y + self.w(name + ".bias") if bias else y

    def forward(self, input_ids, attention_mask, position_ids, *past):
        cfg = self.cfg
        B, T = input_ids.shape[0], input_ids.shape[1]
        S = attention_mask.shape[1]
        x = self.w("model.embed_tokens.weight")[input_ids]  # (B,T,C)
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
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = torch.cat((past[2 * l], k), dim=2)
            v = torch.cat((past[2 * l + 1], v), dim=2)
            present += [k, v]
            kr = k[:, :, None].expand(B, cfg.KV, rep, S, cfg.D).reshape(B, cfg.H, S, cfg.D)
            vr = v[:, :, None].expand(B, cfg.KV, rep, S, cfg.D).reshape(B, cfg.H, S, cfg.D)
            att = (q @ kr.transpose(2, 3)) * cfg.D ** -0.5 + bias
            att = torch.nn.functional.softmax(att, dim=-1, dtype=torch.float32)
            a = (att @ vr).transpose(1, 2).reshape(B, T, cfg.H * cfg.D)
            x = residual + self.lin(a, f"{p}.self_attn.o_proj", cfg.o_bias)
            residual = x
            h = rms_norm(x, self.w(f"{p}.post_attention_layernorm.weight"), cfg.eps)
            g = self.lin(h, f"{p}.mlp.gate_proj", cfg.mlp_bias)
            u = self.lin(h, f"{p}.mlp.up_proj", cfg.mlp_bias)
            x = residual + self.lin(torch.nn.functional.silu(g) * u, f"{p}.mlp.down_proj", cfg.mlp_bias)
        x = rms_norm(x, self.w("model.norm.weight"), cfg.eps)
        head = self.w("model.embed_tokens.weight") if cfg.tied else self.w("lm_head.weight")
        return (x @ head.T, *present)


def random_qwen(cfg_json, seed):
    """Seeded random f16 weights of the Qwen2 layout (normal, std 0.02; norms 1; embedding std 0.05)."""
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
        for n in ("q_proj", "k_proj", "v_proj"):
            W[f"{p}.self_attn.{n}.bias"] = r(cfg.H * cfg.D if n == "q_proj" else cfg.KV * cfg.D)
        W[f"{p}.mlp.gate_proj.weight"] = r(cfg.F, cfg.C)
        W[f"{p}.mlp.up_proj.weight"] = r(cfg.F, cfg.C)
        W[f"{p}.mlp.down_proj.weight"] = r(cfg.C, cfg.F)
    return W


def export(cfg_json, W, out):
    cfg = Cfg(cfg_json)
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    model = OnnxDecoder(cfg, W).eval()
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
    path = os.path.join(out, "onnx", "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, pos, *past), path, input_names=["input_ids", "attention_mask", "position_ids", *past_names],
                          output_names=["logits", *present_names], dynamic_axes=axes, opset_version=17, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    conf = dict(cfg_json)
    conf.setdefault("model_type", "qwen2" if cfg.arch == "Qwen2ForCausalLM" else "llama")
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
    ap.add_argument("--qwen-shaped", action="store_true", help="a Qwen2.5-0.5B-shaped model with random weights")
    ap.add_argument("--layers", type=int, default=2, help="layers of the --qwen-shaped model (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(0)
    if a.qwen_shaped:
        cfg_json = dict(QWEN_05B, num_hidden_layers=a.layers)
        out = a.out or os.path.join(ROOT, "build", "onnx", f"qwen2.5-0.5b-shaped-L{a.layers}")
        W = random_qwen(cfg_json, a.seed)
        os.makedirs(out, exist_ok=True)
        write_safetensors(os.path.join(out, "model.safetensors"), W, {"format": "pt"})
    elif a.model_dir:
        src = a.model_dir
        cfg_json = json.load(open(os.path.join(src, "config.json")))
        out = a.out or os.path.join(ROOT, "build", "onnx", os.path.basename(os.path.normpath(src)))
        W = read_safetensors(os.path.join(src, "model.safetensors"))
        os.makedirs(out, exist_ok=True)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            if os.path.exists(os.path.join(src, f)):
                shutil.copy(os.path.join(src, f), os.path.join(out, f))
    else:
        ap.error("give a model folder or --qwen-shaped")
    path = export(cfg_json, W, out)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path) / 2**20:.1f} MiB) and {os.path.relpath(out, ROOT)}/config.json, generation_config.json")


if __name__ == "__main__":
    main()
