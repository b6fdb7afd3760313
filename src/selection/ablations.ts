// s1's selection ablations (s1, Table: 1K-random, 1K-diverse, 1K-longest) beside difficulty-only and
// a multi-criteria selection whose weights are chosen on a validation split (never the test set):
// each takes candidates and returns N ids, seeded and pure. The quality gate is the caller's
// (runSelection's decisions): "quality-gated random" is pickRandom over the traces that passed it.
import { mulberry32 } from '../lib/rng.ts';

export interface Candidate {
  id: string;
  domain: string;
  level?: number;
  /** reasoning length (tokens or characters; only the order matters) */
  length: number;
  /** higher = harder for the student (e.g. its NLL of the reference answer); absent = unknown */
  difficulty?: number;
  /** the plan's shape: which operations the steps do, in order (planShape) */
  shape: string;
}

/** The operations a reasoning's step lines do, in order ("+-*"), or "-" when it has none. */
export function planShape(reasoning: string): string {
  const ops = [...reasoning.matchAll(/^\s*Step \d+:[^\n]*?\d\s*([-+*/])\s*\d/gm)].map((m) => m[1]);
  return ops.length ? ops.join('') : '-';
}

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const r = mulberry32(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}

/** N uniformly at random. */
export function pickRandom(cs: readonly Candidate[], n: number, seed: number): string[] {
  return shuffle(cs, seed).slice(0, n).map((c) => c.id);
}

const cell = (c: Candidate) => `${c.domain}|${c.level ?? '?'}|${c.shape}`;

/** Diversity only: round robin over domain x level x plan-shape cells (in a seeded order), a random member of each. */
export function pickDiverse(cs: readonly Candidate[], n: number, seed: number): string[] {
  const cells = new Map<string, Candidate[]>();
  for (const c of shuffle(cs, seed)) { const k = cell(c); const l = cells.get(k); if (l) l.push(c); else cells.set(k, [c]); }
  const order = shuffle([...cells.keys()].sort(), seed + 1);
  const out: string[] = [];
  for (let round = 0; out.length < n; round++) {
    let any = false;
    for (const k of order) {
      const l = cells.get(k)!;
      if (round < l.length) { out.push(l[round].id); any = true; if (out.length >= n) break; }
    }
    if (!any) break;
  }
  return out;
}

/** Length only: the N longest reasonings (ties by id order given). */
export function pickLongest(cs: readonly Candidate[], n: number): string[] {
  return cs.map((c, i) => [c, i] as const).sort((a, b) => b[0].length - a[0].length || a[1] - b[1]).slice(0, n).map(([c]) => c.id);
}

/** Difficulty only: the N hardest for the student (unknown difficulty last). */
export function pickHardest(cs: readonly Candidate[], n: number): string[] {
  return cs.map((c, i) => [c, i] as const).sort((a, b) => (b[0].difficulty ?? -Infinity) - (a[0].difficulty ?? -Infinity) || a[1] - b[1]).slice(0, n).map(([c]) => c.id);
}

/** Weights of the multi-criteria selection. */
export interface MultiWeights {
  /** weight of the difficulty percentile in the within-cell score */
  difficulty: number;
  /** weight of the length percentile in the within-cell score */
  length: number;
  /** how far the level quotas lean to hard levels: quota(level) ∝ 1 + hardTilt·(level - 1)/4 (0 = level-uniform) */
  hardTilt: number;
}

/** Percentile (0..1) of each value (ties share the lower rank). */
function pct(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out = new Array<number>(values.length);
  let r = 0;
  for (let k = 0; k < order.length; k++) { if (k > 0 && order[k][0] !== order[k - 1][0]) r = k; out[order[k][1]] = r / Math.max(1, values.length - 1); }
  return out;
}

/** Largest-remainder split of n over weights. */
function quotas(weights: readonly number[], n: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const raw = weights.map((w) => (w / sum) * n);
  const q = raw.map(Math.floor);
  const rest = raw.map((x, i) => [x - q[i], i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; k < n - q.reduce((a, b) => a + b, 0); k++) q[rest[k % rest.length][1]]++;
  return q;
}

/**
 * Reason1K's multi-criteria selection over quality-gated candidates: quotas over domain x level cells
 * (domains equal, levels leaning to hard ones by hardTilt), within a cell the best by
 * difficulty·pct(difficulty) + length·pct(length), taken round robin over plan shapes so no shape
 * crowds a cell. A cell short of its quota passes the rest on to the others.
 */
export function pickMulti(cs: readonly Candidate[], n: number, w: MultiWeights): string[] {
  if (cs.length <= n) return cs.map((c) => c.id);
  const dp = pct(cs.map((c) => c.difficulty ?? 0));
  const lp = pct(cs.map((c) => c.length));
  const score = cs.map((_, i) => w.difficulty * dp[i] + w.length * lp[i]);
  const cells = new Map<string, number[]>();
  cs.forEach((c, i) => { const k = `${c.domain}|${c.level ?? 1}`; const l = cells.get(k); if (l) l.push(i); else cells.set(k, [i]); });
  const keys = [...cells.keys()].sort();
  // within a cell: best first, round robin over shapes
  const ranked = new Map<string, number[]>();
  for (const k of keys) {
    const byShape = new Map<string, number[]>();
    for (const i of [...cells.get(k)!].sort((a, b) => score[b] - score[a] || a - b)) { const s = cs[i].shape; const l = byShape.get(s); if (l) l.push(i); else byShape.set(s, [i]); }
    const lists = [...byShape.values()].sort((a, b) => score[b[0]] - score[a[0]] || a[0] - b[0]);
    const out: number[] = [];
    for (let r = 0; out.length < cells.get(k)!.length; r++) for (const l of lists) if (r < l.length) out.push(l[r]);
    ranked.set(k, out);
  }
  const levelW = (k: string) => 1 + w.hardTilt * ((Number(k.split('|')[1]) || 1) - 1) / 4;
  const chosen: number[] = [];
  const taken = new Map<string, number>(keys.map((k) => [k, 0]));
  let live = keys.filter((k) => ranked.get(k)!.length > 0);
  while (chosen.length < n && live.length) {
    const q = quotas(live.map(levelW), n - chosen.length);
    live.forEach((k, j) => {
      const list = ranked.get(k)!; const t = taken.get(k)!;
      const take = Math.min(q[j], list.length - t);
      chosen.push(...list.slice(t, t + take));
      taken.set(k, t + take);
    });
    live = live.filter((k) => taken.get(k)! < ranked.get(k)!.length);
  }
  return chosen.slice(0, n).map((i) => cs[i].id);
}

/** The weight settings tried on the validation split (the experiment picks one; see experiment:tiny). */
export const MULTI_GRID: readonly MultiWeights[] = [
  { difficulty: 1, length: 0, hardTilt: 0 },
  { difficulty: 0.6, length: 0.4, hardTilt: 1 },
  { difficulty: 0.6, length: 0.4, hardTilt: 3 },
];
