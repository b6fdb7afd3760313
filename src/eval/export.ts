// Export of evaluation runs: CSV (one row per item and sample), JSON (run + items), JSONL (a run
// line, then one line per item, lm-evaluation-harness style: doc_id, target, resps, filtered_resps,
// acc, pass_at_k beside the stored record's own fields) and a CSV summary (one row per run, pass@k
// and maj@k columns); importRun reads the JSONL (or the JSON) back.
import type { EvalItemRecord, EvalRunRecord } from '../domain/eval.ts';
import { majAtK, passAtK, reportKs } from './estimators.ts';
import { summarize } from './runner.ts';

export const CSV_COLUMNS = ['run_id', 'eval_set', 'model', 'adapter', 'budget', 'item_key', 'level', 'subject', 'sample', 'prediction', 'reference', 'correct', 'reason', 'tokens', 'stop', 'item_ms'] as const;

/** One CSV field: quoted when needed; spreadsheet formula triggers neutralised with a leading '. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+@\t\r]/.test(s) || /^-[^\d.]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function runToCsv(run: EvalRunRecord, items: readonly EvalItemRecord[]): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const it of [...items].sort((a, b) => a.index - b.index)) {
    it.samples.forEach((s, i) => {
      rows.push([
        run.id, run.evalSet, run.model, run.config.adapter ?? '', run.config.budget ?? '', it.itemKey, it.level ?? '', it.subject ?? '', i,
        s.prediction ?? '', it.reference, s.correct ? 1 : 0, s.reason, s.tokens, s.stop, it.ms,
      ].map(csvField).join(','));
    });
  }
  return rows.join('\r\n') + '\r\n';
}

export function runToJson(run: EvalRunRecord, items: readonly EvalItemRecord[]): string {
  return JSON.stringify({ format: 'reasonbridge-eval-run', version: 1, run, items: [...items].sort((a, b) => a.index - b.index) }, null, 2);
}

/** Minimal RFC 4180 CSV parser (for tests and for re-reading exports). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

export const RUN_FORMAT = 'reasonbridge-eval-run';

/** JSONL: line 1 the run, then one line per item (its stored record plus harness-style fields). */
export function runToJsonl(run: EvalRunRecord, items: readonly EvalItemRecord[]): string {
  const lines = [JSON.stringify({ type: 'run', format: RUN_FORMAT, version: 2, run })];
  for (const it of [...items].sort((a, b) => a.index - b.index)) {
    const n = it.samples.length;
    const c = it.samples.filter((x) => x.correct).length;
    const votes = it.samples.map((x) => ({ answer: x.prediction, correct: x.correct }));
    const atK = n > 0 ? Object.fromEntries(reportKs(n).map((k) => [k, { pass: passAtK(n, c, k), maj: majAtK(votes, k) }])) : {};
    lines.push(JSON.stringify({
      type: 'item', doc_id: it.index, target: it.reference, resps: it.samples.map((x) => x.text), filtered_resps: it.samples.map((x) => x.prediction),
      acc: it.correct ? 1 : 0, pass_at_k: atK, tokens_per_sample: it.samples.map((x) => x.tokens), record: it,
    }));
  }
  return lines.join('\n') + '\n';
}

export const SUMMARY_COLUMNS = ['run_id', 'eval_set', 'model', 'adapter', 'budget', 'max_tokens', 'samples', 'temperature', 'top_p', 'seed', 'status', 'done', 'total',
  'pass1', 'pass1_low', 'pass1_high', 'maj_k', 'maj_low', 'maj_high', 'mean_tokens', 'elapsed_s'] as const;

/** CSV summary: one row per run; pass@k / maj@k columns for every k any run reports. */
export function runsSummaryCsv(runs: readonly EvalRunRecord[]): string {
  const ks = [...new Set(runs.flatMap((r) => r.summary?.score.atK?.map((a) => a.k) ?? []))].sort((a, b) => a - b);
  const head = [...SUMMARY_COLUMNS, ...ks.flatMap((k) => [`pass@${k}`, `maj@${k}`])];
  const rows = [head.join(',')];
  for (const r of runs) {
    const s = r.summary?.score;
    const at = new Map((s?.atK ?? []).map((a) => [a.k, a]));
    const cells: unknown[] = [
      r.id, r.evalSet, r.model, r.config.adapter ?? '', r.config.budget ?? '', r.config.maxTokens, r.config.samples, r.config.temperature, r.config.topP, r.config.seed, r.status,
      r.summary?.done ?? 0, r.summary?.total ?? r.config.itemKeys.length,
      s?.pass1 ?? '', s?.pass1Interval.low ?? '', s?.pass1Interval.high ?? '', s?.majK ?? '', s?.majInterval.low ?? '', s?.majInterval.high ?? '', s?.meanTokens ?? '',
      r.summary ? r.summary.elapsedMs / 1000 : '',
      ...ks.flatMap((k) => [at.get(k)?.pass ?? '', at.get(k)?.maj ?? '']),
    ];
    rows.push(cells.map(csvField).join(','));
  }
  return rows.join('\r\n') + '\r\n';
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkItem(x: unknown, where: string, runId: string): EvalItemRecord {
  if (!isObj(x)) throw new Error(`${where}: "record" is not an object`);
  for (const f of ['itemKey', 'problem', 'reference'] as const) if (typeof x[f] !== 'string') throw new Error(`${where}: field "${f}" must be a string`);
  if (x.runId !== runId) throw new Error(`${where}: field "runId" is ${JSON.stringify(x.runId)}, the run is ${JSON.stringify(runId)}`);
  if (typeof x.index !== 'number') throw new Error(`${where}: field "index" must be a number`);
  if (!Array.isArray(x.samples) || x.samples.length === 0) throw new Error(`${where}: field "samples" must be a non-empty list`);
  x.samples.forEach((s, i) => {
    if (!isObj(s) || typeof s.correct !== 'boolean' || typeof s.tokens !== 'number') throw new Error(`${where}: samples[${i}] needs "correct" (boolean) and "tokens" (number)`);
  });
  if (!isObj(x.majority)) throw new Error(`${where}: field "majority" missing`);
  return x as unknown as EvalItemRecord;
}

/**
 * Reads an exported run back: the JSONL of runToJsonl or the JSON of runToJson. The summary is
 * recomputed from the items (so a hand-edited file cannot claim a score its items do not hold).
 * Errors name the file, line and field.
 */
export function importRun(text: string, file = 'run'): { run: EvalRunRecord; items: EvalItemRecord[] } {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error(`${file}: empty file`);
  let run: EvalRunRecord;
  let items: EvalItemRecord[];
  const first = trimmed.split('\n', 1)[0];
  let head: unknown;
  try { head = JSON.parse(first); } catch { head = undefined; }
  if (isObj(head) && head.type === 'run') {
    if (head.format !== RUN_FORMAT) throw new Error(`${file} line 1: field "format" is ${JSON.stringify(head.format)}, expected "${RUN_FORMAT}"`);
    run = checkRun(head.run, `${file} line 1`);
    items = [];
    trimmed.split('\n').forEach((line, i) => {
      if (i === 0 || line.trim() === '') return;
      let v: unknown;
      try { v = JSON.parse(line); } catch (e) { throw new Error(`${file} line ${i + 1}: invalid JSON (${(e as Error).message})`); }
      if (!isObj(v) || v.type !== 'item') throw new Error(`${file} line ${i + 1}: field "type" must be "item"`);
      items.push(checkItem(v.record, `${file} line ${i + 1}`, run.id));
    });
  } else {
    let v: unknown;
    try { v = JSON.parse(trimmed); } catch (e) { throw new Error(`${file}: neither run JSONL (first line {"type":"run",..}) nor run JSON (${(e as Error).message})`); }
    if (!isObj(v) || v.format !== RUN_FORMAT) throw new Error(`${file}: field "format" must be "${RUN_FORMAT}"`);
    run = checkRun(v.run, file);
    if (!Array.isArray(v.items)) throw new Error(`${file}: field "items" must be a list`);
    items = v.items.map((x, i) => checkItem(x, `${file} items[${i}]`, run.id));
  }
  const keys = new Set(run.config.itemKeys);
  const stray = items.find((it) => !keys.has(it.itemKey));
  if (stray) throw new Error(`${file}: item "${stray.itemKey}" is not among the run's itemKeys`);
  const s = run.summary;
  run.summary = summarize(items, run.config.itemKeys.length, s?.badRows ?? [], s?.elapsedMs ?? 0, s?.error);
  return { run, items: items.sort((a, b) => a.index - b.index) };
}

function checkRun(x: unknown, where: string): EvalRunRecord {
  if (!isObj(x)) throw new Error(`${where}: field "run" must be an object`);
  for (const f of ['id', 'evalSet', 'model', 'status'] as const) if (typeof x[f] !== 'string') throw new Error(`${where}: field "run.${f}" must be a string`);
  if (!isObj(x.config) || !Array.isArray(x.config.itemKeys)) throw new Error(`${where}: field "run.config.itemKeys" must be a list`);
  if (typeof x.createdAt !== 'number') throw new Error(`${where}: field "run.createdAt" must be a number`);
  return x as unknown as EvalRunRecord;
}
