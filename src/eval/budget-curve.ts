// Accuracy versus thinking budget: runs that differ only in `budget` form one curve (s1-style
// scaling figure). Pure grouping; the chart (uPlot) draws what this returns.
import type { EvalRunRecord } from '../domain/eval.ts';

export interface BudgetPoint { budget: number; accuracy: number; low: number; high: number; runId: string; n: number }
export interface BudgetCurve { label: string; points: BudgetPoint[] }

/** Everything that must match for two runs to sit on one curve. */
export function curveKey(r: EvalRunRecord): string {
  const c = r.config;
  // maxTokens is left out: under budget forcing it only has to exceed the budget.
  return JSON.stringify([c.evalSet, c.model, c.adapter ?? null, c.itemKeys, c.seed, c.temperature, c.topP, c.samples, c.system ?? null,
    stripBudget(c.interventions ?? null)]);
}

function stripBudget(iv: Record<string, unknown> | null): unknown {
  if (!iv) return null;
  const copy: Record<string, unknown> = { ...iv };
  delete copy.budget;
  return copy;
}

/** Curves with at least two distinct budgets, from finished (or partly finished) runs. */
export function budgetCurves(runs: readonly EvalRunRecord[]): BudgetCurve[] {
  const groups = new Map<string, EvalRunRecord[]>();
  for (const r of runs) {
    const b = r.config.budget;
    if (typeof b !== 'number' || !Number.isFinite(b) || !r.summary || r.summary.done === 0) continue;
    const k = curveKey(r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const curves: BudgetCurve[] = [];
  for (const g of groups.values()) {
    // Newest run per budget wins.
    const byBudget = new Map<number, EvalRunRecord>();
    for (const r of [...g].sort((a, b) => a.createdAt - b.createdAt)) byBudget.set(r.config.budget as number, r);
    if (byBudget.size < 2) continue;
    const points = [...byBudget.entries()].sort(([a], [b]) => a - b).map(([budget, r]) => ({
      budget, accuracy: r.summary!.score.pass1, low: r.summary!.score.pass1Interval.low, high: r.summary!.score.pass1Interval.high, runId: r.id, n: r.summary!.done,
    }));
    const c = g[0].config;
    curves.push({ label: `${c.evalSet} · ${c.model}${c.adapter ? ` + ${c.adapter}` : ''} · ${c.itemKeys.length} items`, points });
  }
  return curves;
}
