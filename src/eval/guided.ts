// Generation with inference interventions (budget forcing etc.) for evaluation runs, through the
// guided-inference engine (src/guide/engine.ts). A run whose config carries interventions uses
// this instead of the plain loop; the thinking budget of the accuracy-vs-budget curve is
// interventions.budget.maxThinking. Given a batch session, self-consistency's samples decode
// together (the same texts as over a DecodeSession, src/guide/engine.ts).
import type { BatchDecodeSession, DecodeSession, TextTokenizer } from '../engine/generation/types.ts';
import { runGuided } from '../guide/engine.ts';
import { INTERVENTION_DEFAULTS } from '../guide/interventions/defaults.ts';
import type { Interventions } from '../domain/guide.ts';
import { extractAnswer } from '../grading/extract.ts';
import { gradeAnswer } from '../grading/equivalence.ts';
import { DEFAULT_SYSTEM_PROMPT, PromptTooLongError, chatPrompt, type GenerateOptions, type Generation } from './generate.ts';

/** s1-style budget forcing at `budget` thinking tokens (answer phrase forced at the cap). */
export function budgetInterventions(budget: number): Interventions {
  return {
    budget: { ...INTERVENTION_DEFAULTS.budget, endMarkers: [...INTERVENTION_DEFAULTS.budget.endMarkers], minThinking: 0, maxThinking: Math.max(1, Math.floor(budget)) },
  };
}

/** True when the settings ask for any intervention. */
export function hasInterventions(iv: Record<string, unknown> | null | undefined): iv is Interventions & Record<string, unknown> {
  return !!iv && Object.values(iv).some((v) => v !== undefined && v !== null);
}

export async function generateGuided(session: DecodeSession | BatchDecodeSession, tokenizer: TextTokenizer, problem: string, o: GenerateOptions, interventions: Interventions): Promise<Generation> {
  const system = o.system ?? DEFAULT_SYSTEM_PROMPT;
  const promptLen = chatPrompt(tokenizer, problem, system, o.thinking).length;
  if (promptLen >= session.maxLength) throw new PromptTooLongError(promptLen, session.maxLength);
  const seed = Math.floor(o.rng() * 0x100000000) >>> 0;
  const t = await runGuided(
    { problem, system, settings: { seed, sampling: { temperature: o.temperature, topP: o.topP, topK: 0, maxNewTokens: o.maxTokens }, interventions, ...(o.thinking === undefined ? {} : { thinking: o.thinking }) } },
    {
      session, tokenizer, signal: o.signal,
      extract: (text) => extractAnswer(text)?.answer ?? null,
      equivalent: async (a, b) => (await gradeAnswer(a, b)).correct,
      equivalenceName: 'grader',
    },
  );
  const main = t.samples[t.main] ?? t.samples[0];
  if (!main) return { text: '', tokens: 0, stop: 'cancelled' };
  const tokens = t.samples.reduce((a, s) => a + s.tokens.length, 0);
  // With self-consistency the vote's answer is what the run answers: append it as a final line.
  const text = t.samples.length > 1 && t.finalAnswer !== null ? `${main.text}\nFinal Answer: ${t.finalAnswer}` : main.text;
  const stop: Generation['stop'] = main.stop === 'cancelled' ? 'cancelled' : main.stop === 'eos' ? 'eos' : main.stop === 'context-full' ? 'context' : 'length';
  return { text, tokens, stop, ...(t.promptThinking === 'open' ? { thinkingOpen: true } : {}) };
}
