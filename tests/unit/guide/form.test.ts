import { describe, expect, it } from 'vitest';
import { defaultForm, formFromRecipe, recipeFromForm, tokenColour } from '../../../src/components/playground/form.ts';
import { fingerprint } from '../../../src/lib/hash.ts';
import { validateRecipe } from '../../../src/share/recipe.ts';

describe('playground form <-> recipe', () => {
  it('round-trips every setting through a valid recipe', () => {
    const f = { ...defaultForm(), strategyOn: true, plan: 'add', verifyOn: true, action: 'resample' as const, consistencyOn: true, n: 4, endMarkers: '</think>\nEND' };
    const r = recipeFromForm(f, 'bundled:tiny');
    expect(validateRecipe(r)).toEqual(r);
    expect(r.interventions.budget!.endMarkers).toEqual(['</think>', 'END']);
    expect(formFromRecipe(r)).toEqual(f);
    const off = recipeFromForm({ ...defaultForm(), budgetOn: false, compare: false }, 'bundled:tiny');
    expect(off.interventions).toEqual({});
    expect(off.compare).toBeUndefined();
  });
  it('forced Waits with a check cue and verification by a check line travel in the recipe (and a bad "by" is refused by name)', () => {
    const f = { ...defaultForm(), waits: 2, cue: ', check:', verifyOn: true, action: 'resample' as const, verifyBy: 'check' as const };
    const r = recipeFromForm(f, 'bundled:tiny');
    expect(r.interventions.budget).toMatchObject({ waits: 2, cue: ', check:' });
    expect(r.interventions.verify).toMatchObject({ by: 'check' });
    expect(validateRecipe(r)).toEqual(r);
    expect(formFromRecipe(r)).toEqual(f);
    expect(recipeFromForm(defaultForm(), 'bundled:tiny').interventions.budget).not.toHaveProperty('waits');
    expect(() => validateRecipe({ ...r, interventions: { verify: { ...r.interventions.verify!, by: 'vibes' as never } } })).toThrow(/interventions\.verify\.by/);
  });
  it('fingerprints and colours', () => {
    expect(fingerprint({ a: 1 })).toBe(fingerprint({ a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
    expect(tokenColour('logprob', 0, 0, 10)).toBe('hsl(120 75% 82%)');
    expect(tokenColour('entropy', -1, Math.log(10), 10)).toBe('hsl(0 75% 82%)');
    expect(tokenColour('entropy', null, null, 10)).toBeNull();
  });
});
