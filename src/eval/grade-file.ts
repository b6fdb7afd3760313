// Grading of researchers' own outputs (JSONL): the logic behind scripts/grade.ts, usable in Node
// and in the page. A response field holding a list is graded element by element and by majority.
import { extractAnswer, gradeAnswer, type EquivalenceOptions } from '../grading/index.ts';
import { majorityVote, wilson } from './metrics.ts';
import type { Interval } from '../domain/eval.ts';

export interface SampleVerdict { prediction: string | null; correct: boolean; reason: string }

export type RowVerdict =
  | { row: number; ok: true; kind: 'single'; prediction: string | null; correct: boolean; reason: string }
  | { row: number; ok: true; kind: 'list'; samples: SampleVerdict[]; pass1: number; majority: SampleVerdict & { votes: number } }
  | { row: number; ok: false; error: string };

export interface FileSummary {
  rows: number;
  graded: number;
  errors: number;
  /** Single responses: accuracy; lists: mean per-sample accuracy. */
  accuracy: number;
  interval: Interval;
  /** Lists only: accuracy of the majority vote. */
  majority?: number;
  k?: number;
  /** Wall time per graded row (extraction + grading), ms. */
  msPerItem?: { median: number; p95: number };
}

/** Reads a dotted path ("a.b.0") from a JSON value. */
export function getField(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function asText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** The reference answer: a #### / A: line or \boxed{} inside a solution-like field is extracted. */
export function referenceAnswer(v: string): string {
  if (/^\s*(####|A:)/m.test(v) || /\\boxed|\\fbox/.test(v)) return extractAnswer(v)?.answer ?? v.trim();
  return v.trim();
}

export async function gradeRow(obj: unknown, row: number, file: string, responseField: string, answerField: string, opts?: EquivalenceOptions): Promise<RowVerdict> {
  const where = `${file}:${row}`;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return { row, ok: false, error: `${where}: not a JSON object` };
  const refRaw = asText(getField(obj, answerField));
  if (refRaw === null || refRaw.trim() === '') return { row, ok: false, error: `${where}: field "${answerField}" is missing or not a string/number` };
  const ref = referenceAnswer(refRaw);
  const resp = getField(obj, responseField);
  if (Array.isArray(resp)) {
    if (resp.length === 0) return { row, ok: false, error: `${where}: field "${responseField}" is an empty list` };
    const texts = resp.map(asText);
    const bad = texts.findIndex((t) => t === null);
    if (bad >= 0) return { row, ok: false, error: `${where}: field "${responseField}[${bad}]" is not a string` };
    const samples: SampleVerdict[] = [];
    for (const t of texts as string[]) {
      const p = extractAnswer(t)?.answer ?? null;
      const v = await gradeAnswer(p, ref, opts);
      samples.push({ prediction: p, correct: v.correct, reason: v.reason });
    }
    const vote = majorityVote(samples.map((s) => s.prediction));
    const mv = vote.index >= 0 ? samples[vote.index] : { prediction: null, correct: false, reason: 'mismatch: no answer in any sample' };
    return { row, ok: true, kind: 'list', samples, pass1: samples.filter((s) => s.correct).length / samples.length, majority: { ...mv, votes: vote.votes } };
  }
  const text = asText(resp);
  if (text === null) return { row, ok: false, error: `${where}: field "${responseField}" is missing or not a string/list` };
  const p = extractAnswer(text)?.answer ?? null;
  const v = await gradeAnswer(p, ref, opts);
  return { row, ok: true, kind: 'single', prediction: p, correct: v.correct, reason: v.reason };
}

/** Grades JSONL text line by line (1-based line numbers); bad lines are reported, not fatal. */
export async function gradeJsonl(text: string, file: string, responseField: string, answerField: string, opts?: EquivalenceOptions, onRow?: (v: RowVerdict) => void): Promise<{ verdicts: RowVerdict[]; summary: FileSummary }> {
  const verdicts: RowVerdict[] = [];
  const times: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let obj: unknown;
    let v: RowVerdict;
    try { obj = JSON.parse(line); } catch (e) {
      v = { row: i + 1, ok: false, error: `${file}:${i + 1}: invalid JSON (${(e as Error).message})` };
      verdicts.push(v); onRow?.(v); continue;
    }
    const t0 = performance.now();
    v = await gradeRow(obj, i + 1, file, responseField, answerField, opts);
    if (v.ok) times.push(performance.now() - t0);
    verdicts.push(v); onRow?.(v);
  }
  const summary = summarize(verdicts);
  if (times.length > 0) summary.msPerItem = { median: quantile(times, 0.5), p95: quantile(times, 0.95) };
  return { verdicts, summary };
}

/** Nearest-rank quantile of `xs` (0 < q <= 1). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function summarize(verdicts: readonly RowVerdict[]): FileSummary {
  const ok = verdicts.filter((v): v is Extract<RowVerdict, { ok: true }> => v.ok);
  const lists = ok.filter((v) => v.kind === 'list');
  let trials = 0;
  let succ = 0;
  let maj = 0;
  let k = 0;
  for (const v of ok) {
    if (v.kind === 'single') { trials++; if (v.correct) succ++; }
    else { trials += v.samples.length; succ += v.samples.filter((s) => s.correct).length; if (v.majority.correct) maj++; k = Math.max(k, v.samples.length); }
  }
  const pass1 = ok.length === 0 ? 0 : ok.reduce((a, v) => a + (v.kind === 'single' ? (v.correct ? 1 : 0) : v.pass1), 0) / ok.length;
  return {
    rows: verdicts.length, graded: ok.length, errors: verdicts.length - ok.length, accuracy: pass1, interval: wilson(succ, trials),
    ...(lists.length > 0 ? { majority: maj / lists.length, k } : {}),
  };
}
