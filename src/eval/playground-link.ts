// Drill-down from an evaluated item into the Playground: a share-link recipe (src/share/) with the
// item's bundled problem, the run's model, sampling and interventions. The Playground re-runs it
// step by step with its timeline, seeded with the item's seed (src/lib/seed.ts); its prompt and
// interventions are its own, so the text may still differ from the stored evaluation sample.
import { encodeRecipe } from '../share/codec.ts';
import type { Recipe } from '../domain/recipe.ts';
import type { Interventions } from '../domain/guide.ts';
import { itemSeed } from '../lib/seed.ts';
import type { EvalItemRecord, EvalRunRecord } from '../domain/eval.ts';

export function recipeForItem(run: EvalRunRecord, item: EvalItemRecord): Recipe | null {
  const c = run.config;
  if (!c.modelId) return null;
  return {
    v: 1,
    model: c.modelId,
    problem: { kind: 'bench', set: run.evalSet, id: item.itemKey },
    // the item's seed: the Playground's sample 0 draws from the evaluation's sample-0 stream
    seed: itemSeed(c.seed, item.itemKey),
    sampling: { temperature: c.temperature, topP: c.topP, topK: 3, maxNewTokens: Math.min(8192, c.maxTokens) },
    interventions: (c.interventions ?? {}) as Interventions,
    ...(c.thinking === undefined ? {} : { thinking: c.thinking }),
    // the run's adapter (content hash) goes along: the Playground merges it if this session has it
    ...(c.adapter && /^[0-9a-f]{64}$/.test(c.adapter) ? { adapter: { kind: 'hash' as const, sha256: c.adapter } } : {}),
  };
}

/** `?view=playground#r=…` for the item, or null when the run cannot be expressed as a recipe. */
export function playgroundHref(run: EvalRunRecord, item: EvalItemRecord, loc: { pathname: string }): string | null {
  const r = recipeForItem(run, item);
  if (!r) return null;
  try {
    return `${loc.pathname}?view=playground${encodeRecipe(r)}`;
  } catch {
    return null;
  }
}
