// Hostile and costly links: "#R=" is read, decode messages are bounded even for a deeply nested
// payload, and a link's cost (tokens x samples x attempts x sides) decides whether it runs unasked.
import { describe, expect, it } from 'vitest';
import { deflateSync, strToU8 } from 'fflate';
import { decodeRecipe, encodeRecipe, isShareHash, MAX_MESSAGE, toBase64Url } from '../../../src/share/codec.ts';
import { AUTO_RUN_MAX_TOKENS, describeCost, recipeCost } from '../../../src/share/link-cost.ts';
import type { Recipe } from '../../../src/domain/recipe.ts';
import { defaultForm, recipeFromForm } from '../../../src/components/playground/form.ts';

const small: Recipe = {
  v: 1, model: 'bundled:tiny', problem: { kind: 'text', text: 'What is 2 + 2?' }, seed: 1,
  sampling: { temperature: 0.8, topP: 0.95, topK: 5, maxNewTokens: 96 }, interventions: {},
};
const hashOf = (json: string) => `#r=1.${toBase64Url(deflateSync(strToU8(json), { level: 9 }))}`;

describe('share link safety', () => {
  it('reads "#R=" like "#r="', () => {
    const h = encodeRecipe(small);
    const upper = `#R=${h.slice(3)}`;
    expect(isShareHash(upper)).toBe(true);
    expect(decodeRecipe(upper)).toEqual({ ok: true, recipe: small });
    expect(isShareHash('#section')).toBe(false);
  });

  it('a deeply nested payload gives a short message (was 54,000 characters)', () => {
    const deep = '['.repeat(30000) + ']'.repeat(30000);
    for (const json of [`{"v":${deep}}`, `{"v":1,"model":"bundled:tiny","problem":${deep}}`, deep, `{"${'a'.repeat(40000)}":1}`]) {
      const d = decodeRecipe(hashOf(json));
      expect(d.ok).toBe(false);
      if (!d.ok) {
        expect(d.error.length).toBeLessThanOrEqual(MAX_MESSAGE);
        expect(d.error).toMatch(/^This share link cannot be opened/);
      }
    }
  });

  it('costs a recipe as tokens x samples x attempts x sides; the default form runs unasked, the issue\'s link does not', () => {
    const def = recipeCost(recipeFromForm(defaultForm(), 'bundled:tiny'));
    expect(def.total).toBe(96 * 2);
    expect(def.autoRun).toBe(true);
    const big: Recipe = {
      ...small, sampling: { ...small.sampling, maxNewTokens: 8192 },
      interventions: { consistency: { n: 32 }, verify: { threshold: 0.5, action: 'resample', maxResamples: 8, checkPhrase: '' } },
    };
    const c = recipeCost(big);
    expect(c).toMatchObject({ tokens: 8192, samples: 32, attempts: 9, sides: 1, total: 8192 * 32 * 9, autoRun: false });
    expect(describeCost(c)).toBe('8,192 tokens × 32 samples × 9 step attempts (resampling) = up to 2,359,296 generated tokens');
    const edge = recipeCost({ ...small, sampling: { ...small.sampling, maxNewTokens: AUTO_RUN_MAX_TOKENS } });
    expect(edge.autoRun).toBe(true);
    expect(recipeCost({ ...small, sampling: { ...small.sampling, maxNewTokens: AUTO_RUN_MAX_TOKENS + 1 } }).autoRun).toBe(false);
  });
});
