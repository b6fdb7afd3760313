// Recipes naming an adapter and a base-vs-adapter comparison: validation and the Playground form round trip.
import { describe, expect, it } from 'vitest';
import { defaultForm, formFromRecipe, recipeFromForm } from '../../../src/components/playground/form.ts';
import { recipeForItem } from '../../../src/eval/playground-link.ts';
import type { EvalItemRecord, EvalRunRecord } from '../../../src/domain/eval.ts';
import { RecipeError, validateRecipe, withoutInterventions } from '../../../src/share/recipe.ts';

const SHA = 'ab'.repeat(32);

describe('adapter in recipes', () => {
  it('the form carries the adapter hash and compare mode into the recipe and back', () => {
    const f = { ...defaultForm(), adapterSha: SHA, compare: true, compareWith: 'adapter' as const };
    const r = validateRecipe(recipeFromForm(f, 'bundled:tiny'));
    expect(r.adapter).toEqual({ kind: 'hash', sha256: SHA });
    expect(r.compareWith).toBe('adapter');
    const back = formFromRecipe(r);
    expect(back.adapterSha).toBe(SHA);
    expect(back.compareWith).toBe('adapter');
    expect(withoutInterventions(r).compareWith).toBeUndefined();
  });

  it('no adapter: no adapter ref and the interventions comparison', () => {
    const r = recipeFromForm({ ...defaultForm(), compareWith: 'adapter' }, 'bundled:tiny');
    expect(r.adapter).toBeUndefined();
    expect(r.compareWith).toBeUndefined();
    expect(formFromRecipe(r).compareWith).toBe('interventions');
  });

  it('rejects a bad compareWith or one without an adapter, naming the field', () => {
    const r = recipeFromForm({ ...defaultForm(), adapterSha: SHA }, 'bundled:tiny');
    const field = (v: unknown) => { try { validateRecipe(v); return null; } catch (e) { return e instanceof RecipeError ? e.field : 'other'; } };
    expect(field({ ...r, compareWith: 'weights' })).toBe('compareWith');
    expect(field({ ...r, adapter: undefined, compareWith: 'adapter' })).toBe('compareWith');
    expect(field({ ...r, compareWith: 'interventions' })).toBeNull();
  });
});

describe('evaluation drill-down link', () => {
  it('carries the run\'s adapter hash into the Playground recipe', () => {
    const run = { id: 'r1', evalSet: 'gsm8k_test', config: { modelId: 'bundled:tiny', seed: 1, temperature: 0, topP: 1, maxTokens: 16, adapter: SHA } } as unknown as EvalRunRecord;
    const item = { itemKey: 'gsm8k_test:3' } as unknown as EvalItemRecord;
    expect(validateRecipe(recipeForItem(run, item)).adapter).toEqual({ kind: 'hash', sha256: SHA });
    const base = { ...run, config: { ...run.config, adapter: null } } as EvalRunRecord;
    expect(recipeForItem(base, item)!.adapter).toBeUndefined();
  });
});
