// The intervention engine: drives a DecodeSession token by token and applies budget forcing,
// strategy injection, step verification and self-consistency, recording everything on a timeline.
// Deterministic: every random draw comes from streams derived from the run's seed, so the same
// settings, model and problem give the same timeline.
import type { ChatMessage, DecodeSession, SampledToken, SamplingOptions, TextTokenizer } from '../engine/generation/types.ts';
import { SeededRng } from '../lib/rng.ts';
import { deriveSeed, sampleSeed } from '../lib/seed.ts';
import { exactTrimmed, majorityVote, type Equivalent, type Extract } from './answer.ts';
import { extractAnswerText } from '../grading/index.ts';
import { stepConfidence } from './confidence.ts';
import { stepEndToken } from './steps.ts';
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
  session: DecodeSession;
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

/** Keeps track of which ids the session holds, so any context can be continued or branched. */
class Context {
  held: number[] = [];
  constructor(readonly session: DecodeSession) {
    // Whatever an earlier user left in the cache is unknown to us: start clean.
    if (session.length > 0) session.truncate(0);
  }
  /** Sample the token after `ids`, reusing the longest cached prefix (rewinds with truncate()). */
  async next(ids: readonly number[], opts: SamplingOptions): Promise<SampledToken> {
    let common = 0;
    const lim = Math.min(this.held.length, ids.length - 1);
    while (common < lim && this.held[common] === ids[common]) common++;
    if (common < this.held.length) {
      this.session.truncate(common);
      this.held.length = common;
    }
    const fresh = ids.slice(common);
    const s = await this.session.feed(fresh, opts);
    this.held.push(...fresh);
    return s;
  }
}

const DEFAULT_MAX_ANSWER = 48;

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
  const prompt = tok.applyChatTemplate(messages);
  if (prompt.length === 0) throw new Error('the chat template produced no tokens');
  const ctx = new Context(deps.session);
  const n = Math.max(1, Math.floor(settings.interventions.consistency?.n ?? 1));

  const samples: SampleRecord[] = [];
  for (let i = 0; i < n; i++) {
    const run = new SampleRun(i, n, prompt, input, deps, ctx, extract);
    samples.push(await run.generate());
    if (samples[i].stop === 'cancelled') break;
  }

  const reference = input.reference?.trim() ? input.reference.trim() : null;
  if (reference !== null) {
    for (const s of samples) s.correct = s.answer !== null ? await equivalent(s.answer, reference) : false;
  }
  const vote = n > 1 ? await majorityVote(samples.map((s) => s.answer), equivalent, equivalenceName) : null;
  const main = vote && vote.answer !== null ? (vote.groups.find((g) => g.answer === vote.answer)?.samples[0] ?? 0) : 0;
  const finalAnswer = vote ? vote.answer : samples[0].answer;
  const correct = reference === null ? null : finalAnswer !== null && (await equivalent(finalAnswer, reference));
  const timeline: Timeline = {
    version: 1, promptTokens: prompt.length, samples, main, vote, finalAnswer, reference, correct,
  };
  if (input.answerTrace && !deps.signal?.aborted) {
    const target = input.answerTrace.target ?? reference ?? finalAnswer;
    if (target) timeline.answerTrace = await traceAnswer(ctx, tok, prompt, samples[main], target, settings, input.answerTrace);
  }
  return timeline;
}

/** log p(" " + target | prompt + tokens[0..stepEnd] + answer phrase) at each step end of `sample`. */
async function traceAnswer(
  ctx: Context, tok: TextTokenizer, prompt: number[], sample: SampleRecord, target: string, settings: GuideSettings,
  opt: { topK?: number; maxSteps?: number },
): Promise<AnswerTrace> {
  const phrase = settings.interventions.budget?.answerPhrase || 'Final Answer:';
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
      const s = await ctx.next([...prefix, ...targetIds.slice(0, j)], { temperature: 0, topP: 1, topK, u: 0 });
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

/** One sample: the generate loop and its interventions. */
class SampleRun {
  readonly tokens: TokenRecord[] = [];
  readonly steps: StepRecord[] = [];
  readonly events: InterventionEvent[] = [];
  readonly branches: BranchRecord[] = [];
  private phase: 'thinking' | 'answer' = 'thinking';
  /** Open step starts here; resampling never rewinds before it. */
  private stepStart = 0;
  /** Token index where the answer phase began (after the answer phrase). */
  private answerStart = -1;
  private attempts = new Map<number, { count: number }>();
  private rng: SeededRng;
  readonly seed: number;
  private draws = 0;
  private readonly eos: Set<number>;
  private readonly vocab: number;

  constructor(
    readonly index: number, readonly of: number, readonly prompt: number[], readonly input: GuideInput,
    readonly deps: GuideDeps, readonly ctx: Context, readonly extract: Extract,
  ) {
    this.seed = sampleSeed(input.settings.seed, index);
    this.rng = new SeededRng(this.seed);
    this.eos = new Set(deps.tokenizer.eosTokenIds);
    this.vocab = deps.tokenizer.vocabSize;
  }

  private get s() { return this.input.settings; }
  private get budget() { return this.s.interventions.budget; }
  private get verify() { return this.s.interventions.verify; }
  private ids(): number[] { return [...this.prompt, ...this.tokens.map((t) => t.id)]; }
  private text(from = 0, to = this.tokens.length): string { return this.tokens.slice(from, to).map((t) => t.text).join(''); }
  private thinkingLen(): number { return this.phase === 'thinking' ? this.tokens.length : this.answerStart; }

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

  private rewind(k: number): void {
    this.tokens.length = k;
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].at > k) this.events.splice(i, 1);
    while (this.steps.length && this.steps[this.steps.length - 1].end > k) this.steps.pop();
  }

  /** Appends intervention text as its own step (never resampled). */
  private insert(text: string): { at: number; ids: number[] } {
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

  private pushStep(start: number, end: number, confidence: Confidence | null, resamples: number, verdict: StepRecord['verdict']): void {
    this.steps.push({ index: this.steps.length, start, end, text: this.text(start, end), confidence, resamples, verdict });
  }

  /** Closes the open step without acting on it (before an insertion, at the end). */
  private closeOpenStep(): void {
    if (this.stepStart >= this.tokens.length) return;
    const conf = stepConfidence(this.tokens.slice(this.stepStart), this.vocab);
    const v = this.verify;
    const verdict = !v || !conf ? 'unchecked' : conf.score < v.threshold ? 'low' : 'ok';
    this.pushStep(this.stepStart, this.tokens.length, conf, this.attempts.get(this.stepStart)?.count ?? 0, verdict);
    this.stepStart = this.tokens.length;
  }

  private measure(c: Confidence, threshold: number, extra: Record<string, number | string> = {}): Record<string, number | string> {
    return { score: round(c.score), threshold, meanLogprob: round(c.meanLogprob), meanEntropy: round(c.meanEntropy), ...extra };
  }

  /** A thinking step [stepStart, end) has ended: measure it and apply step verification. */
  private closeStep(end: number): void {
    const start = this.stepStart;
    const conf = stepConfidence(this.tokens.slice(start, end), this.vocab);
    const v = this.verify;
    if (!v || !conf || conf.score >= v.threshold) {
      this.pushStep(start, end, conf, this.attempts.get(start)?.count ?? 0, v && conf ? 'ok' : 'unchecked');
      this.stepStart = end;
      return;
    }
    if (v.action === 'mark') {
      this.pushStep(start, end, conf, 0, 'low');
      this.events.push({ kind: 'mark', at: start, measurement: this.measure(conf, v.threshold), note: 'low-confidence step marked' });
      this.stepStart = end;
      return;
    }
    if (v.action === 'check') {
      this.pushStep(start, end, conf, 0, 'low');
      this.stepStart = end;
      this.rewind(end);
      const sep = /\s$/.test(this.text()) ? '' : ' ';
      const ins = this.insert(sep + (v.checkPhrase || 'Let me check this step.'));
      this.events.push({ kind: 'check', at: ins.at, inserted: sep + v.checkPhrase, measurement: this.measure(conf, v.threshold), note: 'check phrase inserted after a low-confidence step' });
      return;
    }
    // resample
    const a = this.attempts.get(start) ?? { count: 0 };
    this.attempts.set(start, a);
    const attemptTokens = this.tokens.slice(start, end);
    const branch = (kept = false): BranchRecord => ({
      id: `s${this.index}-t${start}-a${a.count}${kept ? '-kept' : ''}`, sample: this.index, kind: 'resample', at: start,
      tokens: attemptTokens, text: attemptTokens.map((t) => t.text).join(''), confidence: conf,
    });
    if (a.count < v.maxResamples) {
      const b = branch();
      this.branches.push(b);
      a.count++;
      this.rewind(start);
      this.events.push({
        kind: 'resample', at: start, discarded: b.text, branchId: b.id,
        measurement: this.measure(conf, v.threshold, { attempt: a.count }), note: `step resampled (attempt ${a.count} of ${v.maxResamples})`,
      });
      this.rng = new SeededRng(deriveSeed(this.input.settings.seed, 'sample', this.index, 'resample', start, a.count));
      return;
    }
    // Out of attempts: keep the most confident of the discarded attempts and this one.
    const tried = this.branches.filter((b) => b.at === start && b.sample === this.index && b.confidence);
    const best = tried.reduce<BranchRecord | null>((m, b) => (!m || b.confidence!.score > m.confidence!.score ? b : m), null);
    if (!best || best.confidence!.score <= conf.score) {
      this.pushStep(start, end, conf, a.count, 'low');
      this.stepStart = end;
      return;
    }
    const cur = branch();
    this.branches.push(cur);
    this.rewind(start);
    this.tokens.push(...best.tokens.map((t) => ({ ...t, alternatives: t.alternatives.map((x) => ({ ...x })) })));
    this.pushStep(start, this.tokens.length, best.confidence, a.count, 'low');
    this.events.push({
      kind: 'restore', at: start, discarded: cur.text, inserted: best.text, branchId: best.id,
      measurement: this.measure(best.confidence!, v.threshold, { discardedScore: round(conf.score) }), note: 'all resamples below threshold: most confident attempt kept',
    });
    this.stepStart = this.tokens.length;
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

  private extend(discarded: string, measurement: Record<string, number | string>): void {
    const b = this.budget!;
    const sep = /\s$/.test(this.text()) || this.tokens.length === 0 ? '' : ' ';
    const ins = this.insert(sep + b.extension);
    this.events.push({ kind: 'extend', at: ins.at, inserted: sep + b.extension, discarded, measurement, note: `thinking shorter than ${b.minThinking} tokens: end suppressed, "${b.extension}" appended` });
  }

  private enterAnswer(): void {
    this.phase = 'answer';
    this.answerStart = this.tokens.length;
  }

  private forceAnswer(reason: Record<string, number | string>): void {
    const b = this.budget!;
    const sep = /\n$/.test(this.text()) || this.tokens.length === 0 ? '' : '\n';
    const text = `${sep}${b.answerPhrase} `;
    const ins = this.insert(text);
    this.events.push({ kind: 'force-answer', at: ins.at, inserted: text, measurement: reason, note: `thinking reached ${b.maxThinking} tokens: answer phrase forced` });
    this.enterAnswer();
    // The forced phrase belongs to the answer phase.
    for (let i = ins.at; i < this.tokens.length; i++) this.tokens[i].phase = 'answer';
  }

  private progress(): void {
    this.deps.onProgress?.({ sample: this.index, samples: this.of, tokens: this.tokens.length, maxTokens: this.s.sampling.maxNewTokens, text: this.text() });
  }

  async generate(): Promise<SampleRecord> {
    const { sampling, interventions } = this.s;
    const budget = interventions.budget;
    const maxAnswer = budget?.maxAnswerTokens ?? DEFAULT_MAX_ANSWER;
    const answerPhrase = budget?.answerPhrase || 'Final Answer:';
    const endMarkers = (budget?.endMarkers ?? []).filter((m) => m.length > 0);
    const maxDraws = sampling.maxNewTokens * ((this.verify?.maxResamples ?? 0) + 2) + 64;
    let stop: SampleRecord['stop'] = 'max-tokens';

    if (interventions.strategy?.plan.trim()) {
      const plan = `Plan: ${interventions.strategy.plan.trim()}\n\n`;
      const ins = this.insert(plan);
      this.events.push({
        kind: 'strategy', at: ins.at, inserted: plan,
        measurement: interventions.strategy.source === 'reason1k' ? { source: 'reason1k', traceId: interventions.strategy.traceId ?? '' } : { source: 'typed' },
        note: 'strategy plan injected before the reasoning',
      });
    }

    for (;;) {
      if (this.deps.signal?.aborted) { stop = 'cancelled'; break; }
      if (this.tokens.length >= sampling.maxNewTokens || this.draws >= maxDraws) { stop = 'max-tokens'; break; }
      if (this.prompt.length + this.tokens.length >= this.deps.session.maxLength) { stop = 'context-full'; break; }
      if (this.phase === 'thinking' && budget && budget.maxThinking > 0 && this.tokens.length >= budget.maxThinking) {
        this.forceAnswer({ thinkingTokens: this.tokens.length, maxThinking: budget.maxThinking });
        continue;
      }
      if (this.phase === 'answer' && this.tokens.length - this.answerStart >= maxAnswer) { stop = 'max-answer'; break; }

      const cand = await this.ctx.next(this.ids(), {
        temperature: sampling.temperature, topP: sampling.topP, topK: sampling.topK, u: this.rng.next(),
      });
      this.draws++;
      const below = this.phase === 'thinking' && budget !== undefined && budget.minThinking > 0 && this.tokens.length < budget.minThinking;

      if (this.eos.has(cand.id)) {
        if (below) {
          this.extend('<eos>', { thinkingTokens: this.tokens.length, minThinking: budget!.minThinking, markerLogprob: round(cand.logprob) });
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
      for (const m of [answerPhrase, ...endMarkers]) {
        const at = this.markerStart(m);
        if (at >= 0 && (hit < 0 || at < hit)) { hit = at; marker = m; }
      }
      if (hit >= 0) {
        if (below) {
          const discarded = this.text(hit);
          this.rewind(hit);
          if (this.stepStart > hit) this.stepStart = hit;
          this.extend(discarded, { thinkingTokens: hit, minThinking: budget!.minThinking, marker });
          this.progress();
          continue;
        }
        // The model ended its thinking: close the open step before the marker.
        const markerTokens = this.tokens.splice(hit);
        this.closeOpenStep();
        this.tokens.push(...markerTokens);
        if (marker.toLowerCase() === answerPhrase.toLowerCase()) {
          // The answer phrase and the answer make one final step.
          this.enterAnswer();
          for (let i = hit; i < this.tokens.length; i++) this.tokens[i].phase = 'answer';
          this.stepStart = hit;
        } else {
          this.pushStep(hit, this.tokens.length, null, 0, 'unchecked');
          this.stepStart = this.tokens.length;
          this.forceAnswer({ thinkingTokens: hit, marker });
        }
        this.progress();
        continue;
      }
      const end = stepEndToken(this.tokens.map((t) => t.text), this.stepStart);
      const cap = this.verify?.maxStepTokens ?? 0;
      if (end >= 0) this.closeStep(end);
      else if (cap > 0 && this.tokens.length - this.stepStart >= cap) this.closeStep(this.tokens.length);
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
    if (answerText !== null) answer = this.extract(`${answerPhrase} ${answerText}`) ?? (answerText.trim().split('\n')[0].trim() || null);
    if (answer === null) answer = this.extract(text);
    this.progress();
    return {
      index: this.index, seed: this.seed, tokens: this.tokens, steps: this.steps, events: this.events, branches: this.branches,
      text, answer, stop,
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
