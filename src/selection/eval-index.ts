// Index of every bundled evaluation set for decontamination: token n-gram hashes -> eval items.
// A pool problem is contaminated by an eval item when the share of the item's n-grams found in the
// problem (or of the problem's found in the item, whichever is larger) reaches the threshold.
import { exactKey, ngramHashes, tokens } from './normalize.ts';

export interface EvalItemRef {
  set: string;
  /** Stable key within the set (unique_id / id / line). */
  key: string;
  problem: string;
}

export interface ContaminationHit {
  set: string;
  key: string;
  overlap: number;
}

export class EvalIndex {
  readonly n: number;
  private grams = new Map<number, number[]>();
  private sizes: number[] = [];
  private items: EvalItemRef[] = [];
  private exact = new Map<string, number>();
  private counts?: Uint32Array;

  constructor(items: EvalItemRef[], n: number) {
    this.n = n;
    for (const it of items) {
      const id = this.items.length;
      this.items.push(it);
      const toks = tokens(it.problem);
      this.exact.set(toks.join(''), id);
      const g = ngramHashes(toks, n);
      this.sizes.push(g.size);
      for (const h of g) {
        const l = this.grams.get(h);
        if (l) l.push(id);
        else this.grams.set(h, [id]);
      }
    }
  }

  get size(): number {
    return this.items.length;
  }

  sets(): string[] {
    return [...new Set(this.items.map((i) => i.set))];
  }

  /** The eval item whose normalised text equals `problem`, if any. */
  exactMatch(problem: string): EvalItemRef | undefined {
    const id = this.exact.get(exactKey(problem));
    return id === undefined ? undefined : this.items[id];
  }

  /** The eval item with the largest n-gram overlap with `problem`, when it reaches `threshold`. */
  check(problem: string, threshold: number): ContaminationHit | undefined {
    const toks = tokens(problem);
    const exact = this.exact.get(toks.join(''));
    if (exact !== undefined) return { set: this.items[exact].set, key: this.items[exact].key, overlap: 1 };
    const g = ngramHashes(toks, this.n);
    if (g.size === 0) return undefined;
    // Shared-gram counts per eval item (a reused counter array; only touched items are reset).
    const counts = (this.counts ??= new Uint32Array(this.items.length));
    const touched: number[] = [];
    for (const h of g) {
      const l = this.grams.get(h);
      if (l) for (const id of l) if (counts[id]++ === 0) touched.push(id);
    }
    let best: ContaminationHit | undefined;
    for (const id of touched) {
      const c = counts[id];
      counts[id] = 0;
      const overlap = Math.max(c / Math.max(1, this.sizes[id]), c / g.size);
      if (overlap >= threshold && (!best || overlap > best.overlap)) best = { set: this.items[id].set, key: this.items[id].key, overlap };
    }
    return best;
  }
}

/** Eval items of one JSONL text (MATH500 / AIME / AMC / GSM8K test shapes). */
export function evalItemsFromJsonl(set: string, text: string): EvalItemRef[] {
  const out: EvalItemRef[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const r = JSON.parse(line) as Record<string, unknown>;
    const problem = (r.problem ?? r.question) as string | undefined;
    if (typeof problem !== 'string') return;
    const key = String(r.unique_id ?? r.id ?? i + 1);
    out.push({ set, key, problem });
  });
  return out;
}
