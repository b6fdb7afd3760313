// What a share link will run, and what it costs, before anything runs. A link runs on its own only
// when its worst-case generated tokens (tokens x samples x resampling x compared sides) are at most
// AUTO_RUN_MAX_TOKENS; anything larger waits for the user's click.
import type { Recipe } from '../domain/recipe.ts';

/** Links whose worst case is at most this many generated tokens run when opened (the default recipe: 192). */
export const AUTO_RUN_MAX_TOKENS = 1024;

export interface RecipeCost {
  /** Max new tokens per sample. */
  tokens: number;
  /** Self-consistency samples. */
  samples: number;
  /** Attempts per step when step verification resamples (1 = no resampling). */
  attempts: number;
  /** 2 when a comparison run (without interventions, or base vs adapter) is made too. */
  sides: number;
  /** Worst-case generated tokens: tokens x samples x attempts x sides. */
  total: number;
  autoRun: boolean;
}

export function recipeCost(r: Recipe): RecipeCost {
  const tokens = r.sampling.maxNewTokens;
  const samples = r.interventions.consistency?.n ?? 1;
  const v = r.interventions.verify;
  const attempts = v && v.action === 'resample' ? 1 + v.maxResamples : 1;
  const sides = r.compare ? 2 : 1;
  const total = tokens * samples * attempts * sides;
  return { tokens, samples, attempts, sides, total, autoRun: total <= AUTO_RUN_MAX_TOKENS };
}

/** One line for the confirmation banner, e.g. "8,192 tokens × 32 samples × 9 step attempts × 2 sides = up to 4,718,592 generated tokens". */
export function describeCost(c: RecipeCost): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [`${n(c.tokens)} tokens`, `${n(c.samples)} sample${c.samples === 1 ? '' : 's'}`];
  if (c.attempts > 1) parts.push(`${n(c.attempts)} step attempts (resampling)`);
  if (c.sides > 1) parts.push('2 sides (comparison)');
  return `${parts.join(' × ')} = up to ${n(c.total)} generated tokens`;
}

/** What the link asks for, in words (model, problem, interventions). */
export function describeRecipe(r: Recipe): string {
  const p = r.problem.kind === 'bench' ? `${r.problem.set} item ${r.problem.id}` : `a typed problem (${r.problem.text.length.toLocaleString('en-US')} characters)`;
  const iv = Object.keys(r.interventions);
  return `model ${r.model}${r.adapter ? ' with an adapter' : ''}, ${p}, seed ${r.seed}, interventions: ${iv.length ? iv.join(', ') : 'none'}`;
}
