# The bench:train peer: the same model shape and LoRA step in PyTorch on the CPU (2 threads).
# A Qwen2-style decoder (RMSNorm, RoPE, GQA, SwiGLU, tied head) from a config.json, frozen base,
# LoRA (rank r, alpha) on the given modules, AdamW, weighted CE; prints one JSON line with tokens/s
# for one sequence of T tokens and for a batch of B sequences of T tokens.
#   /usr/bin/python3 scripts/bench/torch_train.py CONFIG T B r alpha modules(csv) steps
import json, math, sys, time
import torch
import torch.nn.functional as Fn

torch.set_num_threads(2)
torch.manual_seed(0)
cfg = json.load(open(sys.argv[1]))
T, B, R, ALPHA = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
MODS = sys.argv[6].split(',')
STEPS = int(sys.argv[7])
C, F, L, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['num_hidden_layers'], cfg['vocab_size']
H, KV = cfg['num_attention_heads'], cfg['num_key_value_heads']
D = cfg.get('head_dim', C // H)
eps, theta = cfg['rms_norm_eps'], cfg['rope_theta']

class Lora(torch.nn.Module):
    def __init__(self, i, o, on, bias=False):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(o, i) * 0.02, requires_grad=False)
        self.b = torch.nn.Parameter(torch.zeros(o), requires_grad=False) if bias else None
        self.on = on
        if on:
            self.A = torch.nn.Parameter(torch.randn(R, i) / math.sqrt(i))
            self.B = torch.nn.Parameter(torch.zeros(o, R))
            self.g = torch.nn.Parameter(torch.ones(()))
    def forward(self, x):
        y = Fn.linear(x, self.w, self.b)
        if self.on: y = y + self.g * (ALPHA / R) * ((x @ self.A.t()) @ self.B.t())
        return y

def rms(x, w): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

inv = 1.0 / theta ** (torch.arange(0, D, 2).float() / D)
ang = torch.outer(torch.arange(T).float(), inv)
cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
def rope(x):  # (B, h, T, D)
    a, b = x[..., : D // 2], x[..., D // 2:]
    return x * cos + torch.cat([-b, a], -1) * sin

class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1 = torch.nn.Parameter(torch.ones(C), requires_grad=False); self.n2 = torch.nn.Parameter(torch.ones(C), requires_grad=False)
        self.q = Lora(C, H * D, 'q_proj' in MODS, True); self.k = Lora(C, KV * D, 'k_proj' in MODS, True); self.v = Lora(C, KV * D, 'v_proj' in MODS, True)
        self.o = Lora(H * D, C, 'o_proj' in MODS); self.g = Lora(C, F, 'gate_proj' in MODS); self.u = Lora(C, F, 'up_proj' in MODS); self.d = Lora(F, C, 'down_proj' in MODS)
    def forward(self, x):
        b, t, _ = x.shape
        h = rms(x, self.n1)
        q = rope(self.q(h).view(b, t, H, D).transpose(1, 2)); k = rope(self.k(h).view(b, t, KV, D).transpose(1, 2)); v = self.v(h).view(b, t, KV, D).transpose(1, 2)
        k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float('-inf'))
        a = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, H * D)
        x = x + self.o(a)
        h = rms(x, self.n2)
        return x + self.d(Fn.silu(self.g(h)) * self.u(h))

emb = torch.randn(V, C) * 0.02
layers = torch.nn.ModuleList([Layer() for _ in range(L)])
nf = torch.ones(C)
params = [p for p in layers.parameters() if p.requires_grad]
opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)

def step(ids):
    x = emb[ids]
    for l in layers: x = l(x)
    logits = rms(x, nf) @ emb.t()
    loss = Fn.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    opt.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
    return loss.item()

def fwd(ids):
    with torch.no_grad():
        x = emb[ids]
        for l in layers: x = l(x)
        return (rms(x, nf) @ emb.t()).sum().item()

out = {'threads': torch.get_num_threads(), 'params': sum(p.numel() for p in layers.parameters()) + emb.numel(), 'trainable': sum(p.numel() for p in params)}
for name, b in (('single', 1), ('batch', B)):
    ids = torch.randint(0, V, (b, T))
    step(ids); fwd(ids)
    t0 = time.perf_counter()
    for _ in range(STEPS): step(ids)
    st = (time.perf_counter() - t0) / STEPS
    t0 = time.perf_counter()
    for _ in range(STEPS): fwd(ids)
    ft = (time.perf_counter() - t0) / STEPS
    out[name] = {'B': b, 'T': T, 'stepMs': st * 1000, 'forwardMs': ft * 1000, 'tokensPerSec': b * T / st}
print(json.dumps(out))
