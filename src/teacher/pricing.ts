// Cost accounting: a small, editable price table in US$ per million tokens. The defaults are
// list prices at the time of writing; the UI lets the user correct them (they change often).
import type { ModelPrice, Usage } from '../domain/teacher.ts';

export const DEFAULT_PRICES: readonly ModelPrice[] = [
  { model: 'gpt-4o-mini', inputPerMTok: 0.15, outputPerMTok: 0.6 },
  { model: 'gpt-4o', inputPerMTok: 2.5, outputPerMTok: 10 },
  { model: 'gpt-4.1-mini', inputPerMTok: 0.4, outputPerMTok: 1.6 },
  { model: 'gpt-4.1', inputPerMTok: 2, outputPerMTok: 8 },
  { model: 'o3-mini', inputPerMTok: 1.1, outputPerMTok: 4.4 },
  { model: 'o4-mini', inputPerMTok: 1.1, outputPerMTok: 4.4 },
  { model: 'claude-3-5-haiku', inputPerMTok: 0.8, outputPerMTok: 4 },
  { model: 'claude-3-5-sonnet', inputPerMTok: 3, outputPerMTok: 15 },
  { model: 'claude-3-7-sonnet', inputPerMTok: 3, outputPerMTok: 15 },
  { model: 'claude-sonnet-4', inputPerMTok: 3, outputPerMTok: 15 },
  { model: 'claude-opus-4', inputPerMTok: 15, outputPerMTok: 75 },
  { model: 'deepseek-reasoner', inputPerMTok: 0.55, outputPerMTok: 2.19 },
  { model: 'deepseek/deepseek-r1', inputPerMTok: 0.55, outputPerMTok: 2.19 },
];

export function findPrice(model: string, table: readonly ModelPrice[] = DEFAULT_PRICES): ModelPrice | undefined {
  const exact = table.find((p) => p.model === model);
  if (exact) return exact;
  let best: ModelPrice | undefined;
  for (const p of table) {
    if (model.startsWith(p.model) && (!best || p.model.length > best.model.length)) best = p;
  }
  return best;
}

/** US$ for this usage; undefined when the model has no price (shown as "unknown", not 0). */
export function costOf(model: string, usage: Usage, table: readonly ModelPrice[] = DEFAULT_PRICES): number | undefined {
  const p = findPrice(model, table);
  if (!p) return undefined;
  return (usage.inputTokens * p.inputPerMTok + usage.outputTokens * p.outputPerMTok) / 1e6;
}

/** Parse the editable table, one "model input output" per line; errors name the line. */
export function parsePriceTable(text: string): { prices: ModelPrice[]; errors: string[] } {
  const prices: ModelPrice[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(/[\s,]+/);
    const [model, a, b] = parts;
    const inp = Number(a), out = Number(b);
    if (parts.length !== 3 || !model || !Number.isFinite(inp) || !Number.isFinite(out) || inp < 0 || out < 0) {
      errors.push(`price table line ${i + 1}: expected "model input-$/Mtok output-$/Mtok", got "${line}"`);
    } else prices.push({ model, inputPerMTok: inp, outputPerMTok: out });
  });
  return { prices, errors };
}

export function formatPriceTable(table: readonly ModelPrice[]): string {
  return table.map((p) => `${p.model} ${p.inputPerMTok} ${p.outputPerMTok}`).join('\n');
}
