// The Reason1K selection (DESIGN.md): quality gate -> decontamination -> near-duplicate removal ->
// difficulty/quality/length scores -> domain-balanced sampling to N favouring harder, longer traces
// (s1: pick a domain uniformly, then a trace with weight base^-rank within it). Pure and seeded:
// same traces (in seq order), config and seed -> same ids. Every trace gets a decision with a reason.
import type { DropReason, SelectionConfig, TraceDecision } from '../domain/selection.ts';
import type { Trace } from '../domain/trace.ts';
import { gradeAnswer } from '../grading/index.ts';
import { domainOf } from './domain.ts';
import type { EvalIndex } from './eval-index.ts';
import { DedupIndex } from './minhash.ts';
import { gateTrace, repetitionRatio } from './quality.ts';
import { mulberry32 } from '../lib/rng.ts';

export const DEFAULT_SELECTION: SelectionConfig = {
  targetN: 1000,
  minReasoningChars: 40,
  requireAnswer: true,
  requireCorrect: true,
  dropImageProblems: true,
  maxRepetition: 0.5,
  dedupThreshold: 0.8,
  decontamN: 8,
  decontamThreshold: 0.5,
  difficultyWeight: 0.6,
  lengthWeight: 0.4,
  rankBase: 2,
};

export interface SelectionInput {
  traces: Trace[];
  config: SelectionConfig;
  seed: number;
  evalIndex?: EvalIndex;
  /** Student's mean negative log-likelihood per token of each trace's reference answer (higher = harder). */
  studentNll?: Map<string, number>;
  /** Answer equivalence; defaults to the grader's (gradeAnswer, CAS off for speed). */
  equivalent?: (answer: string, reference: string) => boolean | Promise<boolean>;
  onProgress?: (phase: string, done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SelectionOutput {
  ids: string[];
  decisions: Record<string, TraceDecision>;
  counts: { pool: number; kept: number; dropped: Partial<Record<DropReason, number>> };
  difficultySource: 'student' | 'heuristic';
}

/** Percentile (0..1) of each value among `values` (ties share the lower rank). */
function percentiles(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out = new Array<number>(values.length);
  const denom = Math.max(1, values.length - 1);
  let r = 0;
  for (let k = 0; k < order.length; k++) {
    if (k > 0 && order[k][0] !== order[k - 1][0]) r = k;
    out[order[k][1]] = r / denom;
  }
  return out;
}

export async function runSelection(inp: SelectionInput): Promise<SelectionOutput> {
  const cfg = inp.config;
  const traces = [...inp.traces].sort((a, b) => a.seq - b.seq);
  const total = traces.length;
  const decisions: Record<string, TraceDecision> = {};
  const eq = inp.equivalent ?? (async (a: string, r: string) => (await gradeAnswer(a, r, { symbolic: false })).correct);
  const step = (phase: string, i: number) => {
    if (inp.signal?.aborted) throw Object.assign(new Error('selection cancelled'), { name: 'AbortError' });
    if (i % 500 === 0) inp.onProgress?.(phase, i, total);
  };

  // Scores every trace gets (shown for dropped ones too).
  const lengths = traces.map((t) => t.tokenCounts?.reasoning ?? Math.ceil(t.reasoning.length / 4));
  const lenPct = percentiles(lengths);
  // Student NLL where given (percentile among the scored traces), else stated level and length.
  const nll = traces.map((t) => inp.studentNll?.get(t.id));
  const scored = nll.map((v, i) => [v, i] as const).filter((x): x is readonly [number, number] => x[0] !== undefined);
  const useStudent = scored.length > 0;
  const nllPct = new Map<number, number>();
  percentiles(scored.map((x) => x[0])).forEach((p, k) => nllPct.set(scored[k][1], p));
  const difficulty = traces.map((t, i) => {
    const p = nllPct.get(i);
    if (p !== undefined) return p;
    if (t.level !== undefined) return 0.5 * Math.min(1, Math.max(0, (t.level - 1) / 4)) + 0.5 * lenPct[i];
    return lenPct[i];
  });

  const dedup = new DedupIndex(cfg.dedupThreshold);
  const survivors: number[] = [];
  const drop = (i: number, reason: DropReason, detail: string, domain: string, quality: number) => {
    decisions[traces[i].id] = { kept: false, reason, detail, difficulty: difficulty[i], quality, length: lengths[i], domain };
  };
  for (let i = 0; i < total; i++) {
    step('quality gate', i);
    const t = traces[i];
    const { domain } = domainOf(t);
    const rep = repetitionRatio(t.reasoning);
    let quality = 1 - rep;
    const g = gateTrace(t, cfg, rep);
    if (g) {
      drop(i, g.reason, g.detail, domain, quality);
      continue;
    }
    if (t.referenceAnswer !== undefined && t.referenceAnswer.trim()) {
      const ok = await eq(t.answer, t.referenceAnswer);
      if (!ok) {
        quality *= 0.5;
        if (cfg.requireCorrect) {
          drop(i, 'wrong-answer', `answer "${t.answer.slice(0, 40)}" != reference "${t.referenceAnswer.slice(0, 40)}"`, domain, quality);
          continue;
        }
      }
    } else quality *= 0.9;
    if (inp.evalIndex) {
      const hit = inp.evalIndex.check(t.problem, cfg.decontamThreshold);
      if (hit) {
        drop(i, 'contaminated', `${Math.round(hit.overlap * 100)}% ${cfg.decontamN}-gram overlap with ${hit.set} ${hit.key}`, domain, quality);
        continue;
      }
    }
    const dup = dedup.add(t.id, t.problem);
    if (dup) {
      drop(i, 'near-duplicate', `MinHash similarity ${dup[1].toFixed(2)} with ${dup[0]}`, domain, quality);
      continue;
    }
    decisions[t.id] = { kept: false, difficulty: difficulty[i], quality, length: lengths[i], domain };
    survivors.push(i);
  }

  // Rank within each domain by the sampling score (harder and longer first; seq breaks ties).
  const byDomain = new Map<string, number[]>();
  for (const i of survivors) {
    const d = decisions[traces[i].id].domain;
    const l = byDomain.get(d);
    if (l) l.push(i);
    else byDomain.set(d, [i]);
  }
  const score = (i: number) => cfg.difficultyWeight * difficulty[i] + cfg.lengthWeight * lenPct[i];
  const domains = [...byDomain.keys()].sort();
  for (const d of domains) {
    const l = byDomain.get(d)!;
    l.sort((a, b) => score(b) - score(a) || a - b);
    l.forEach((i, r) => (decisions[traces[i].id].rank = r));
  }

  // Domain-balanced sampling.
  const rng = mulberry32(cfg.targetN * 7919 + inp.seed);
  const chosen: number[] = [];
  if (survivors.length <= cfg.targetN) chosen.push(...domains.flatMap((d) => byDomain.get(d)!));
  else {
    const live = domains.filter((d) => byDomain.get(d)!.length > 0);
    const inv = 1 / cfg.rankBase;
    while (chosen.length < cfg.targetN && live.length) {
      step('sampling', chosen.length);
      const di = Math.floor(rng() * live.length);
      const list = byDomain.get(live[di])!;
      // Weight base^-r over the remaining list (r = position): walk the geometric cumulative sum.
      const totalW = inv === 1 ? list.length : (1 - Math.pow(inv, list.length)) / (1 - inv);
      let u = rng() * totalW;
      let r = 0;
      let w = 1;
      while (r < list.length - 1 && u >= w) {
        u -= w;
        w *= inv;
        r++;
      }
      chosen.push(list[r]);
      list.splice(r, 1);
      if (!list.length) live.splice(di, 1);
    }
  }
  const chosenSet = new Set(chosen);
  for (const i of survivors) {
    const dec = decisions[traces[i].id];
    if (chosenSet.has(i)) {
      dec.kept = true;
      dec.detail = `rank ${dec.rank} in ${dec.domain}`;
    } else {
      dec.reason = 'not-sampled';
      dec.detail = `rank ${dec.rank} in ${dec.domain}: not drawn for N = ${cfg.targetN}`;
    }
  }
  const dropped: Partial<Record<DropReason, number>> = {};
  for (const d of Object.values(decisions)) if (!d.kept && d.reason) dropped[d.reason] = (dropped[d.reason] ?? 0) + 1;
  inp.onProgress?.('done', total, total);
  return {
    ids: chosen.map((i) => traces[i].id),
    decisions,
    counts: { pool: total, kept: chosen.length, dropped },
    difficultySource: useStudent ? 'student' : 'heuristic',
  };
}
