// Strategy retrieval: the Reason1K trace nearest to a problem by TF-IDF cosine over word unigrams
// and bigrams, and the plan taken from it (its strategy segment, else its opening paragraph).

export interface PlanSource {
  id: string;
  problem: string;
  reasoning: string;
  segments?: { kind: 'strategy' | 'tactic' | 'check' | 'answer'; start: number; end: number }[];
}

export interface NearestPlan {
  traceId: string;
  similarity: number;
  plan: string;
  problem: string;
}

export function terms(text: string): string[] {
  const w = text.toLowerCase().replace(/\\[a-z]+/g, ' ').match(/[a-z]+|\d+/g) ?? [];
  const out = [...w];
  for (let i = 0; i + 1 < w.length; i++) out.push(`${w[i]} ${w[i + 1]}`);
  return out;
}

/** The plan of a trace: its strategy segment, else the first paragraph (up to ~400 characters). */
export function planOf(t: PlanSource): string {
  const seg = t.segments?.find((s) => s.kind === 'strategy' && s.end > s.start);
  let plan = seg ? t.reasoning.slice(seg.start, seg.end) : (t.reasoning.split(/\n\s*\n/).find((p) => p.trim()) ?? '');
  plan = plan.trim().replace(/\s+/g, ' ');
  if (plan.length > 400) plan = `${plan.slice(0, 400).replace(/\s+\S*$/, '')} ...`;
  return plan;
}

/** Index of traces for repeated queries. */
export class TfIdfIndex {
  private readonly df = new Map<string, number>();
  private readonly docs: { src: PlanSource; vec: Map<string, number>; norm: number }[] = [];

  constructor(traces: readonly PlanSource[]) {
    const tfs = traces.map((t) => {
      const tf = new Map<string, number>();
      for (const term of terms(t.problem)) tf.set(term, (tf.get(term) ?? 0) + 1);
      for (const term of tf.keys()) this.df.set(term, (this.df.get(term) ?? 0) + 1);
      return tf;
    });
    traces.forEach((src, i) => {
      const vec = this.weigh(tfs[i]);
      this.docs.push({ src, vec, norm: norm(vec) });
    });
  }

  private idf(term: string): number {
    return Math.log((1 + this.docs.length + 1) / (1 + (this.df.get(term) ?? 0))) + 1;
  }

  private weigh(tf: Map<string, number>): Map<string, number> {
    const v = new Map<string, number>();
    for (const [t, c] of tf) v.set(t, (1 + Math.log(c)) * this.idf(t));
    return v;
  }

  nearest(problem: string): NearestPlan | null {
    const tf = new Map<string, number>();
    for (const term of terms(problem)) tf.set(term, (tf.get(term) ?? 0) + 1);
    const q = this.weigh(tf);
    const qn = norm(q);
    if (qn === 0) return null;
    let best: { i: number; sim: number } | null = null;
    this.docs.forEach((d, i) => {
      if (d.norm === 0) return;
      let dot = 0;
      for (const [t, w] of q) dot += w * (d.vec.get(t) ?? 0);
      const sim = dot / (qn * d.norm);
      if (!best || sim > best.sim) best = { i, sim };
    });
    if (!best) return null;
    const { i, sim } = best as { i: number; sim: number };
    if (sim <= 0) return null;
    const src = this.docs[i].src;
    return { traceId: src.id, similarity: sim, plan: planOf(src), problem: src.problem };
  }
}

function norm(v: Map<string, number>): number {
  let s = 0;
  for (const x of v.values()) s += x * x;
  return Math.sqrt(s);
}
