// The guided-inference loop: drives each sample token by token, calls the interventions' hooks
// (src/guide/interventions/: strategy injection, budget forcing, step verification;
// self-consistency over the samples) and records everything on a timeline.
// The n samples of self-consistency are tasks of one decodeTogether() (src/engine/generation/
// batch.ts): over a BatchDecodeSession of B slots, B samples decode together (one weight read per
// step for all), each sample's own loop deciding its next context (inserted, forced and rewound
// tokens are per sequence); over a DecodeSession (one slot) they run one after another.
// Deterministic: every random draw comes from streams derived from the run's seed, so the same
// settings, model and problem give the same timeline, batched or not.
import type { BatchDecodeSession, ChatMessage, DecodeSession, SampledToken, TextTokenizer } from '../engine/generation/types.ts';
import { asBatchSession, decodeTogether, type BatchLane } from '../engine/generation/batch.ts';
import { SeededRng } from '../lib/rng.ts';
import { contextFull } from '../engine/generation/context-stop.ts';
import { THINK_CLOSE, THINK_OPEN, promptThinking, type PromptThinking, type ThinkingFormat } from '../engine/tokenizer/thinking.ts';
import { deriveSeed, sampleSeed } from '../lib/seed.ts';
import { exactTrimmed, majorityVote, type Equivalent, type Extract } from './answer.ts';
import { extractAnswerText } from '../grading/index.ts';
import { stepConfidence } from './confidence.ts';
import { stepEndToken } from './steps.ts';
import { createInterventions } from './interventions/index.ts';
import { mainSample, sampleCount } from './interventions/consistency.ts';
import { INTERVENTION_DEFAULTS } from './interventions/defaults.ts';
import type { Intervention, SampleControl } from './interventions/types.ts';
import type { AnswerTrace, BranchRecord, Confidence, GuideProgress, GuideSettings, InterventionEvent, SampleRecord, StepRecord, Timeline, TokenRecord } from '../domain/guide.ts';

export interface GuideInput {
  problem: string;
  reference?: string | null;
  system?: string;
  settings: GuideSettings;
  /** Score log p(answer | prefix) at every step end of the main sample (for comparisons). */
  answerTrace?: { target?: string | null; topK?: number; maxSteps?: number };
}

export interface GuideDeps {
  /** A batch session decodes up to `slots` samples of self-consistency together; a DecodeSession
   *  (or a batch session of one slot) draws them one after another, with the same results. */
  session: DecodeSession | BatchDecodeSession;
  tokenizer: TextTokenizer;
  extract?: Extract;
  equivalent?: Equivalent;
  /** Name of the equivalence recorded on the vote, e.g. 'grader'. */
  equivalenceName?: string;
  onProgress?: (p: GuideProgress) => void;
  signal?: { readonly aborted: boolean };
}

export class GuideCancelled extends Error {
  constructor() { super('Run cancelled'); this.name = 'GuideCancelled'; }
}

/** Runs the guided generation for a problem and returns its timeline. */
export async function runGuided(input: GuideInput, deps: GuideDeps): Promise<Timeline> {
  const { settings } = input;
  const tok = deps.tokenizer;
  const extract = deps.extract ?? ((t: string) => extractAnswerText(t));
  const equivalent = deps.equivalent ?? exactTrimmed;
  const equivalenceName = deps.equivalenceName ?? (deps.equivalent ? 'grader' : 'exact-trimmed');
  const messages: ChatMessage[] = [];
  if (input.system) messages.push({ role: 'system', content: input.system });
  messages.push({ role: 'user', content: input.problem });
  const prompt = tok.applyChatTemplate(messages, settings.thinking === undefined ? {} : { thinking: settings.thinking });
  if (prompt.length === 0) throw new Error('the chat template produced no tokens');
  // The model's thinking markers (ids where single tokens) and where the template left the reply.
  const format: ThinkingFormat = tok.thinking ?? { open: THINK_OPEN, close: THINK_CLOSE, openId: null, closeId: null, switchable: false, defaultOn: true };
  const opened = promptThinking(tok.decode(prompt.slice(-8)), format);
  const session = asBatchSession(deps.session);
  const n = sampleCount(settings.interventions);

  // Samples not begun when one is cancelled are not drawn (one slot: those after it).
  let cancelled = false;
  const { results } = await decodeTogether(session, Array.from({ length: n }, (_, i) => async (lane: BatchLane) => {
    if (cancelled) return null;
    const s = await new SampleRun(i, n, prompt, input, deps, lane, extract, format, opened).generate();
    if (s.stop === 'cancelled') cancelled = true;
    return s;
  }));
  const samples = results.filter((s): s is SampleRecord => s !== null);

  const reference = input.reference?.trim() ? input.reference.trim() : null;
  if (reference !== null) {
    for (const s of samples) s.correct = s.answer !== null ? await equivalent(s.answer, reference) : false;
  }
  const vote = n > 1 ? await majorityVote(samples.map((s) => s.answer), equivalent, equivalenceName) : null;
  const main = mainSample(vote);
  const finalAnswer = vote ? vote.answer : samples[0].answer;
  const correct = reference === null ? null : finalAnswer !== null && (await equivalent(finalAnswer, reference));
  const timeline: Timeline = {
    version: 1, promptTokens: prompt.length, ...(opened === 'none' ? {} : { promptThinking: opened }), samples, main, vote, finalAnswer, reference, correct,
  };
  if (input.answerTrace && !deps.signal?.aborted) {
    const target = input.answerTrace.target ?? reference ?? finalAnswer;
    const opt = input.answerTrace;
    if (target) timeline.answerTrace = (await decodeTogether(session, [(lane) => traceAnswer(lane, tok, prompt, samples[main], target, settings, opt)])).results[0];
  }
  return timeline;
}

/** log p(" " + target | prompt + tokens[0..stepEnd] + answer phrase) at each step end of `sample`. */
async function traceAnswer(
  lane: BatchLane, tok: TextTokenizer, prompt: number[], sample: SampleRecord, target: string, settings: GuideSettings,
  opt: { topK?: number; maxSteps?: number },
): Promise<AnswerTrace> {
  const phrase = settings.interventions.budget?.answerPhrase || INTERVENTION_DEFAULTS.budget.answerPhrase;
  const ids = sample.tokens.map((t) => t.id);
  const thinkingSteps = sample.steps.filter((s) => sample.tokens[s.start]?.phase !== 'answer');
  const steps = thinkingSteps.slice(0, opt.maxSteps ?? 32);
  const targetIds = tok.encode(` ${target}`);
  const phraseIds = tok.encode(`\n${phrase}`);
  const topK = opt.topK ?? 64;
  const points: AnswerTrace['points'] = [];
  for (const st of steps) {
    const prefix = [...prompt, ...ids.slice(0, st.end), ...phraseIds];
    let lp = 0;
    let bounded = false;
    for (let j = 0; j < targetIds.length; j++) {
      const s = await lane.next([...prefix, ...targetIds.slice(0, j)], { temperature: 0, topP: 1, topK, u: 0 });
      const want = targetIds[j];
      const alt = want === s.id ? s.logprob : s.alternatives.find((a) => a.id === want)?.logprob;
      if (alt === undefined) {
        bounded = true;
        lp += s.alternatives.length ? s.alternatives[s.alternatives.length - 1].logprob : -30;
      } else lp += alt;
    }
    points.push({ step: st.index, tokenEnd: st.end, logprob: lp, bounded });
  }
  return { target, points };
}

/** One sample: the generate loop, calling the interventions' hooks. */
class SampleRun implements SampleControl {
  readonly tokens: TokenRecord[] = [];
  readonly steps: StepRecord[] = [];
  readonly events: InterventionEvent[] = [];
  readonly branches: BranchRecord[] = [];
  phase: 'thinking' | 'answer' = 'thinking';
  /** Open step starts here; resampling never rewinds before it. */
  stepStart = 0;
  /** Token index where the answer phase began (after the answer phrase). */
  private answerStart = -1;
  private rng: SeededRng;
  readonly seed: number;
  private draws = 0;
  /** set by a resample: the temperature of the open step's draws (null: the run's own) */
  private stepTemperature: number | null = null;
  private readonly eos: Set<number>;
  private readonly vocab: number;
  private readonly policies: Intervention[];
  private readonly answerPhrase: string;

  constructor(
    readonly index: number, readonly of: number, readonly prompt: number[], readonly input: GuideInput,
    readonly deps: GuideDeps, readonly lane: BatchLane, readonly extract: Extract,
    readonly format: ThinkingFormat, readonly promptThinking: PromptThinking,
  ) {
    this.seed = sampleSeed(input.settings.seed, index);
    this.rng = new SeededRng(this.seed);
    this.eos = new Set(deps.tokenizer.eosTokenIds);
    this.vocab = deps.tokenizer.vocabSize;
    this.policies = createInterventions(input.settings);
    this.answerPhrase = input.settings.interventions.budget?.answerPhrase || INTERVENTION_DEFAULTS.budget.answerPhrase;
  }

  get settings(): GuideSettings { return this.input.settings; }
  private ids(): number[] { return [...this.prompt, ...this.tokens.map((t) => t.id)]; }
  text(from = 0, to = this.tokens.length): string { return this.tokens.slice(from, to).map((t) => t.text).join(''); }

  /** Text of `id` appended after the generated tokens so far (windowed decode keeps multi-byte pieces right). */
  private pieceText(prev: readonly number[], id: number): string {
    const w = prev.slice(Math.max(0, prev.length - 4));
    const a = this.deps.tokenizer.decode(w);
    const b = this.deps.tokenizer.decode([...w, id]);
    return b.startsWith(a) ? b.slice(a.length) : this.deps.tokenizer.decode([id]);
  }

  private record(s: SampledToken): TokenRecord {
    const prev = this.tokens.map((t) => t.id);
    return {
      id: s.id,
      text: this.pieceText(prev, s.id),
      source: 'model',
      logprob: s.logprob,
      entropy: s.entropy,
      alternatives: s.alternatives.map((a) => ({ id: a.id, logprob: a.logprob, text: this.deps.tokenizer.decode([a.id]) })),
      phase: this.phase,
    };
  }

  rewind(k: number): void {
    this.tokens.length = k;
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].at > k) this.events.splice(i, 1);
    while (this.steps.length && this.steps[this.steps.length - 1].end > k) this.steps.pop();
  }

  appendTokens(tokens: readonly TokenRecord[]): void { this.tokens.push(...tokens); }

  reseed(...keys: (string | number)[]): void {
    this.rng = new SeededRng(deriveSeed(this.settings.seed, 'sample', this.index, ...keys));
  }

  insert(text: string): { at: number; ids: number[] } {
    this.closeOpenStep();
    const at = this.tokens.length;
    const ids = this.deps.tokenizer.encode(text);
    for (const id of ids) {
      const prev = this.tokens.map((t) => t.id);
      this.tokens.push({ id, text: this.pieceText(prev, id), source: 'inserted', logprob: null, entropy: null, alternatives: [], phase: this.phase });
    }
    if (ids.length) this.pushStep(at, this.tokens.length, null, 0, 'unchecked');
    this.stepStart = this.tokens.length;
    return { at, ids };
  }

  setStepTemperature(t: number): void { this.stepTemperature = t; }

  pushStep(start: number, end: number, confidence: Confidence | null, resamples: number, verdict: StepRecord['verdict']): void {
    this.stepTemperature = null;
    this.steps.push({ index: this.steps.length, start, end, text: this.text(start, end), confidence, resamples, verdict });
  }

  /** A thinking step [stepStart, end) has ended: the first policy that takes it records it; else it is unchecked. */
  private closeStep(end: number, canAct: boolean): void {
    const start = this.stepStart;
    const confidence = stepConfidence(this.tokens.slice(start, end), this.vocab);
    for (const p of this.policies) {
      const ev = p.step?.(this, { start, end, confidence, canAct });
      if (ev) { this.events.push(...ev); return; }
    }
    this.pushStep(start, end, confidence, 0, 'unchecked');
    this.stepStart = end;
  }

  /** Closes the open step without acting on it (before an insertion, at the end). */
  private closeOpenStep(): void {
    if (this.stepStart < this.tokens.length) this.closeStep(this.tokens.length, false);
  }

  /** Where `marker` (case-insensitive) completes within the last token of the thinking text, as a token index; -1 if not. */
  private markerStart(marker: string): number {
    if (!marker) return -1;
    const from = this.stepStart > 0 ? this.fence() : 0;
    const text = this.text(from);
    const last = this.tokens[this.tokens.length - 1]?.text ?? '';
    const idx = text.toLowerCase().lastIndexOf(marker.toLowerCase());
    if (idx < 0 || idx + marker.length <= text.length - last.length) return -1;
    let off = 0;
    for (let i = from; i < this.tokens.length; i++) {
      if (off + this.tokens[i].text.length > idx) return i;
      off += this.tokens[i].text.length;
    }
    return -1;
  }

  /** Start of the text that may still be rewound: the first token after the last inserted run. */
  private fence(): number {
    for (let i = this.tokens.length - 1; i >= 0; i--) if (this.tokens[i].source === 'inserted') return i + 1;
    return 0;
  }

  /** Inside an opened `<think>`: one the model wrote and has not closed, or the template's. */
  thinkingOpen(): boolean {
    const t = this.text();
    const o = t.lastIndexOf(this.format.open);
    const c = t.lastIndexOf(this.format.close);
    if (o > c) return true;
    return c < 0 && this.promptThinking === 'open';
  }

  private enterAnswer(): void {
    this.phase = 'answer';
    this.answerStart = this.tokens.length;
  }

  forceAnswer(measurement: Record<string, number | string>, note: string): InterventionEvent {
    const sep = /\n$/.test(this.text()) || this.tokens.length === 0 ? '' : '\n';
    // s1: at the cap the end-of-thinking marker is appended first, then the answer phrase
    const close = this.thinkingOpen() ? `${this.format.close}\n\n` : '';
    const text = `${sep}${close}${this.answerPhrase} `;
    const ins = this.insert(text);
    this.enterAnswer();
    // The forced phrase belongs to the answer phase.
    for (let i = ins.at; i < this.tokens.length; i++) this.tokens[i].phase = 'answer';
    return { kind: 'force-answer', at: ins.at, inserted: text, measurement, note };
  }

  /** Calls `hook` on each policy until one returns events; records them. True when one acted. */
  private firstActing(hook: (p: Intervention) => InterventionEvent[] | undefined): boolean {
    for (const p of this.policies) {
      const ev = hook(p);
      if (ev && ev.length) { this.events.push(...ev); return true; }
    }
    return false;
  }

  private progress(): void {
    this.deps.onProgress?.({ sample: this.index, samples: this.of, tokens: this.tokens.length, maxTokens: this.settings.sampling.maxNewTokens, text: this.text() });
  }

  async generate(): Promise<SampleRecord> {
    const { sampling, interventions } = this.settings;
    const maxAnswer = interventions.budget?.maxAnswerTokens ?? INTERVENTION_DEFAULTS.budget.maxAnswerTokens;
    // Budget forcing's end markers (default: the model's </think>, defaults.ts). A listed marker that
    // is one token of the tokenizer (Qwen3's </think> = 151668) is matched by id, never in the text:
    // a "</think>" spelled in ordinary tokens is not the model's end of thinking.
    const closeId = this.format.closeId;
    const listed = (interventions.budget?.endMarkers ?? []).filter((m) => m.length > 0);
    const byId = (m: string) => closeId !== null && m === this.format.close;
    const endMarkers = listed.filter((m) => !byId(m));
    const closeById = listed.some(byId);
    const maxDraws = sampling.maxNewTokens * ((interventions.verify?.maxResamples ?? 0) + 2) + 64;
    const stepCap = Math.max(0, ...this.policies.map((p) => p.maxStepTokens ?? 0));
    let stop: SampleRecord['stop'] = 'max-tokens';

    for (const p of this.policies) if (p.start) this.events.push(...p.start(this));

    for (;;) {
      if (this.deps.signal?.aborted) { stop = 'cancelled'; break; }
      if (this.tokens.length >= sampling.maxNewTokens || this.draws >= maxDraws) { stop = 'max-tokens'; break; }
      // the context fed next (its last token just sampled) must fit: the one stop rule
      if (contextFull(this.prompt.length + this.tokens.length - 1, this.lane.maxLength)) { stop = 'context-full'; break; }
      if (this.phase === 'thinking' && this.firstActing((p) => p.token?.(this))) continue;
      if (this.phase === 'answer' && this.tokens.length - this.answerStart >= maxAnswer) { stop = 'max-answer'; break; }

      const cand = await this.lane.next(this.ids(), {
        temperature: this.stepTemperature ?? sampling.temperature, topP: sampling.topP, topK: sampling.topK, u: this.rng.next(),
      });
      this.draws++;
      const thinkingTokens = this.tokens.length;

      if (this.eos.has(cand.id)) {
        if (this.phase === 'thinking' && this.firstActing((p) => p.endOfThinking?.(this, { at: thinkingTokens, marker: '<eos>', thinkingTokens, logprob: cand.logprob }))) {
          this.progress();
          continue;
        }
        stop = 'eos';
        break;
      }
      this.tokens.push(this.record(cand));
      if (this.phase === 'answer') { this.progress(); continue; }

      // End-of-thinking in the text: an end marker or the answer phrase.
      let hit = -1;
      let marker = '';
      if (closeById && cand.id === closeId) { hit = this.tokens.length - 1; marker = this.format.close; }
      else for (const m of [this.answerPhrase, ...endMarkers]) {
        const at = this.markerStart(m);
        if (at >= 0 && (hit < 0 || at < hit)) { hit = at; marker = m; }
      }
      if (hit >= 0) {
        if (this.firstActing((p) => p.endOfThinking?.(this, { at: hit, marker, thinkingTokens }))) {
          this.progress();
          continue;
        }
        // The model ended its thinking: close the open step before the marker.
        const markerTokens = this.tokens.splice(hit);
        this.closeOpenStep();
        this.tokens.push(...markerTokens);
        if (marker.toLowerCase() === this.answerPhrase.toLowerCase()) {
          // The answer phrase and the answer make one final step.
          this.enterAnswer();
          for (let i = hit; i < this.tokens.length; i++) this.tokens[i].phase = 'answer';
          this.stepStart = hit;
        } else {
          this.pushStep(hit, this.tokens.length, null, 0, 'unchecked');
          this.stepStart = this.tokens.length;
          this.events.push(this.forceAnswer({ thinkingTokens: hit, marker }, `end marker "${marker}": answer phrase forced`));
        }
        this.progress();
        continue;
      }
      const end = stepEndToken(this.tokens.map((t) => t.text), this.stepStart);
      if (end >= 0) this.closeStep(end, true);
      else if (stepCap > 0 && this.tokens.length - this.stepStart >= stepCap) this.closeStep(this.tokens.length, true);
      this.progress();
    }

    // Close what is open; the answer phase is one step.
    if (this.stepStart < this.tokens.length) {
      if (this.phase === 'answer') {
        this.pushStep(this.stepStart, this.tokens.length, stepConfidence(this.tokens.slice(this.stepStart), this.vocab), 0, 'unchecked');
        this.stepStart = this.tokens.length;
      } else this.closeOpenStep();
    }
    this.events.push({ kind: 'stop', at: this.tokens.length, measurement: { reason: stop, tokens: this.tokens.length }, note: `stopped: ${stop}` });
    const text = this.text();
    const answerText = this.answerStart >= 0 ? this.text(this.answerStart) : null;
    let answer: string | null = null;
    if (answerText !== null) answer = this.extract(`${this.answerPhrase} ${answerText}`) ?? (answerText.trim().split('\n')[0].trim() || null);
    if (answer === null) answer = this.extract(text);
    this.progress();
    return {
      index: this.index, seed: this.seed, tokens: this.tokens, steps: this.steps, events: this.events, branches: this.branches,
      text, answer, stop,
    };
  }
}
