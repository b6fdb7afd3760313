// Backward of causal grouped-query attention (forward: attention.ts), for training from position 0.
//   inputs:  q (T,H,D) after RoPE, k, v (T,Hkv,D), o (T,H,D) the forward output, dO (T,H,D)
//   P_tj = softmax_j(scale·q_t·k_j), j <= t;  δ_t = Σ_e dO_t[e]·O_t[e]  (= Σ_j P_tj·(dO_t·v_j))
//   dS_tj = P_tj·(dO_t·v_j − δ_t)
//   dq_t = scale·Σ_j dS_tj·k_j ;  dk_j = scale·Σ_{h in group} Σ_{t>=j} dS_tj·q_t ;  dv_j = Σ_h Σ_{t>=j} P_tj·dO_t
// The float64 reference of that math (the kernels run over packed rows: attention-packed.ts).

/** `window` > 0: query t sees keys t − window < j <= t (sliding window); `scale` default d^-1/2. */
export function attentionBackwardRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dout: ArrayLike<number>, t: number, h: number, hkv: number, d: number, window = 0, scale = 1 / Math.sqrt(d)): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const dq = new Float64Array(t * h * d); const dk = new Float64Array(t * hkv * d); const dv = new Float64Array(t * hkv * d);
  const g = h / hkv;
  for (let ti = 0; ti < t; ti++) for (let hi = 0; hi < h; hi++) {
    const kvh = Math.floor(hi / g); const L = ti + 1; const qo = (ti * h + hi) * d;
    const P = new Float64Array(L); let mx = -Infinity;
    for (let j = 0; j < L; j++) {
      let s = 0;
      for (let e = 0; e < d; e++) s += q[qo + e] * k[(j * hkv + kvh) * d + e];
      P[j] = window > 0 && ti - j >= window ? -Infinity : s * scale; mx = Math.max(mx, P[j]);
    }
    let z = 0;
    for (let j = 0; j < L; j++) { P[j] = Math.exp(P[j] - mx); z += P[j]; }
    const dP = new Float64Array(L); let delta = 0;
    for (let j = 0; j < L; j++) {
      P[j] /= z;
      let s = 0;
      for (let e = 0; e < d; e++) s += dout[qo + e] * v[(j * hkv + kvh) * d + e];
      dP[j] = s; delta += P[j] * s;
    }
    for (let j = 0; j < L; j++) {
      const ds = P[j] * (dP[j] - delta);
      const ko = (j * hkv + kvh) * d;
      for (let e = 0; e < d; e++) {
        dq[qo + e] += ds * k[ko + e] * scale;
        dk[ko + e] += ds * q[qo + e] * scale;
        dv[ko + e] += P[j] * dout[qo + e];
      }
    }
  }
  return { dq, dk, dv };
}
