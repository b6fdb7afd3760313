// Training examples from traces for the hierarchical distillation loss: the chat template's prompt
// (user = problem) followed by the assistant's reply (reasoning + final answer + end of turn), fixed
// to T tokens (truncated, or padded with weight-0 positions). Only assistant tokens carry loss:
// strategy, tactic and answer tokens share lambda_strategy, lambda_tactics, lambda_answer each
// (loss = Σ_kind lambda_kind · mean CE over the kind's tokens), via segmentBatch. Check spans (lines
// that verify or correct a step) carry lambda_check where it is set, else they count as tactics
// (so a loss without a check weight trains as it did before checks had a kind). The engine's loop
// (src/engine/adapter/train-loop.ts) trains on exampleSequence(): the example cut to its last
// weighted position (packed without padding), with each position's segment kind.
import type { Segment, TeacherTopK } from '../domain/trace.ts';
import { segmentTrace } from '../segment/segment.ts';
import type { ChatMessage } from '../engine/generation/types.ts';
import { type LossSegment, type TrainBatch, segmentBatch } from '../engine/adapter/batch.ts';
import { KIND_ANSWER, KIND_NONE, KIND_STRATEGY, KIND_TACTICS, type TrainSequence } from '../engine/adapter/train-loop.ts';
import type { LossWeights } from './settings.ts';

/** What example building needs of a tokenizer (HfTextTokenizer has it). */
export interface ExampleTokenizer {
  encode(text: string): number[];
  applyChatTemplate(messages: readonly ChatMessage[]): number[];
  readonly eosTokenIds: readonly number[];
}

/** The fields of a Trace that training reads. */
export interface TrainTrace { id: string; problem: string; reasoning: string; answer: string; segments?: Segment[]; teacherTopK?: TeacherTopK }

export interface TrainExample {
  traceId: string;
  batch: TrainBatch;
  promptTokens: number;
  /** assistant tokens kept within T (those that carry loss) */
  targetTokens: number;
  /** assistant tokens cut off by T */
  truncated: number;
  /** segment kind of the target predicted at each position (KIND_* of train-loop.ts; KIND_NONE: no target) */
  kinds: number[];
  /** the reply's pieces as token spans [start, end) of ids, with the piece's offset in `reasoning` (null: not from it) */
  pieces: Array<{ start: number; end: number; from: number | null }>;
}

// checks report with the tactics in the loop's loss-by-kind progress (it knows three kinds)
const KIND_CODE: Record<Segment['kind'], number> = { strategy: KIND_STRATEGY, tactic: KIND_TACTICS, check: KIND_TACTICS, answer: KIND_ANSWER };

/** The example as a packed-loop sequence: positions up to the last one carrying loss (no padding). */
export function exampleSequence(ex: TrainExample): TrainSequence {
  const w = ex.batch.weights;
  let last = w.length - 1;
  while (last > 0 && w[last] === 0) last--;
  const n = last + 1;
  return { ids: ex.batch.ids.slice(0, n), targets: ex.batch.targets.slice(0, n), weights: w.slice(0, n), kinds: ex.kinds.slice(0, n) };
}

type Kind = Segment['kind'];

/** The assistant reply as contiguous (kind, text) pieces: the reasoning's segments (gaps count as
 *  tactics), then "Final answer: …" (answer) unless the reasoning already ends with the answer. */
export function replyPieces(t: TrainTrace): Array<{ kind: Kind; text: string; from: number | null }> {
  const text = t.reasoning;
  const segs = segmentTrace(t).filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  const out: Array<{ kind: Kind; text: string; from: number | null }> = [];
  let at = 0;
  for (const s of segs) {
    const start = Math.max(s.start, at);
    if (start > at) out.push({ kind: 'tactic', text: text.slice(at, start), from: at });
    if (s.end > start) out.push({ kind: s.kind, text: text.slice(start, s.end), from: start });
    at = Math.max(at, s.end);
  }
  if (at < text.length) out.push({ kind: 'tactic', text: text.slice(at), from: at });
  const ans = t.answer.trim();
  const end = text.trimEnd();
  if (ans && !end.endsWith(ans) && !end.endsWith(`\\boxed{${ans}}`)) out.push({ kind: 'answer', text: `${text.trim() ? '\n\n' : ''}Final answer: ${ans}`, from: null });
  return out.filter((p) => p.text.length > 0);
}

/** One example of exactly T tokens, or undefined when the prompt leaves no room for a target. */
export function buildExample(tok: ExampleTokenizer, t: TrainTrace, T: number, w: LossWeights): TrainExample | undefined {
  const prompt = tok.applyChatTemplate([{ role: 'user', content: t.problem }]);
  const pieces = replyPieces(t).map((p) => ({ kind: p.kind, from: p.from, ids: tok.encode(p.text) }));
  const eos = tok.eosTokenIds[0] ?? 0;
  if (pieces.length) pieces[pieces.length - 1].ids.push(eos); // end of turn counts with the last piece
  const ids = [...prompt];
  const spans: Array<{ kind: Kind; start: number; end: number; from: number | null }> = [];
  let total = 0;
  for (const p of pieces) {
    total += p.ids.length;
    const room = T - ids.length;
    const take = Math.min(room, p.ids.length);
    if (take > 0) { spans.push({ kind: p.kind, start: ids.length, end: ids.length + take, from: p.from }); ids.push(...p.ids.slice(0, take)); }
  }
  const kept = spans.reduce((a, s) => a + s.end - s.start, 0);
  // prompt longer than T: no assistant token fits; the first assistant token needs a prediction position
  if (kept === 0 || prompt.length >= T || prompt.length === 0) return undefined;
  const lambda: Record<Kind, number> = { strategy: w.strategy, tactic: w.tactics, check: w.check ?? w.tactics, answer: w.answer };
  // without a check weight, checks are tactics (one mean over both)
  const lossKind = (k: Kind): Kind => (k === 'check' && w.check === undefined ? 'tactic' : k);
  const perKind: Record<Kind, number> = { strategy: 0, tactic: 0, check: 0, answer: 0 };
  for (const s of spans) perKind[lossKind(s.kind)] += s.end - s.start;
  // lambda_kind spread over the kind's tokens: a span of n tokens gets lambda_kind·n/total_kind
  const segments: LossSegment[] = w.mode === 'plain'
    ? spans.map((s) => ({ start: s.start, end: s.end, lambda: (s.end - s.start) / kept }))
    : spans.filter((s) => lambda[s.kind] > 0).map((s) => ({ start: s.start, end: s.end, lambda: (lambda[s.kind] * (s.end - s.start)) / perKind[lossKind(s.kind)] }));
  if (segments.length === 0) return undefined;
  while (ids.length < T) ids.push(eos); // padding: no loss there, and causal attention never sees it
  const kinds = new Array<number>(T).fill(KIND_NONE);
  for (const s of spans) for (let i = s.start; i < s.end; i++) kinds[i - 1] = KIND_CODE[s.kind]; // position i-1 predicts token i
  return { traceId: t.id, batch: segmentBatch(ids, segments), promptTokens: prompt.length, targetTokens: kept, truncated: total - kept, kinds, pieces: spans.map(({ start, end, from }) => ({ start, end, from })) };
}

/** Examples for up to `maxExamples` traces (in the given order), skipping those that do not fit. */
export function buildExamples(tok: ExampleTokenizer, traces: readonly TrainTrace[], T: number, w: LossWeights, maxExamples: number): { examples: TrainExample[]; skipped: number } {
  const examples: TrainExample[] = [];
  let skipped = 0;
  for (const t of traces) {
    if (examples.length >= maxExamples) break;
    const ex = buildExample(tok, t, T, w);
    if (ex) examples.push(ex); else skipped++;
  }
  return { examples, skipped };
}
