// Interventions for an evaluation run taken from a Playground share link (#r=…), and a one-line
// description of them for the start form and the runs table.
import { decodeRecipe } from '../share/codec.ts';
import type { Interventions } from '../domain/guide.ts';

export type LinkResult = { ok: true; interventions: Interventions; text: string; /** the recipe's enable_thinking */ thinking?: boolean } | { ok: false; error: string };

/** Reads the interventions of a share link (a full URL or just its "#r=…" hash). */
export function interventionsFromLink(link: string): LinkResult {
  const at = link.indexOf('#r=');
  if (at < 0) return { ok: false, error: 'not a Playground share link (it has no "#r=" part)' };
  const d = decodeRecipe(link.slice(at).trim());
  if (!d.ok) return { ok: false, error: d.error };
  return { ok: true, interventions: d.recipe.interventions, text: describeInterventions(d.recipe.interventions), ...(d.recipe.thinking === undefined ? {} : { thinking: d.recipe.thinking }) };
}

export function describeInterventions(iv: Interventions | null | undefined): string {
  if (!iv) return 'none';
  const parts: string[] = [];
  if (iv.budget) parts.push(`budget forcing ${iv.budget.minThinking ? `${iv.budget.minThinking}–` : '≤'}${iv.budget.maxThinking} thinking tokens`);
  if (iv.strategy) parts.push(`strategy (${iv.strategy.source})`);
  if (iv.verify) parts.push(`step verification < ${iv.verify.threshold} → ${iv.verify.action}`);
  if (iv.consistency && iv.consistency.n > 1) parts.push(`self-consistency n=${iv.consistency.n}`);
  return parts.length ? parts.join(', ') : 'none';
}
