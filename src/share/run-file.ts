// A guided run as a JSON file, for receivers who cannot recompute it (no GPU, no model). Import
// validates every field it will render or replay and names the first bad one.
import type { Timeline } from '../domain/guide.ts';
import { RecipeError, validateRecipe } from './recipe.ts';
import type { GuideRun, Recipe } from '../domain/recipe.ts';

export const RUN_FORMAT = 'reasonbridge-run';
export const MAX_RUN_FILE = 50 * 1024 * 1024;

export interface RunFile {
  format: typeof RUN_FORMAT;
  version: 1;
  run: GuideRun;
}

export class RunFileError extends Error {
  constructor(readonly fileName: string, readonly field: string, detail: string) {
    super(`${fileName}: ${field ? `${field} ` : ''}${detail}`);
    this.name = 'RunFileError';
  }
}

export function exportRun(run: GuideRun): string {
  const file: RunFile = { format: RUN_FORMAT, version: 1, run };
  return JSON.stringify(file);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Check {
  constructor(readonly file: string) {}
  fail(field: string, detail: string): never { throw new RunFileError(this.file, field, detail); }
  obj(v: unknown, f: string): Obj { return isObj(v) ? v : this.fail(f, 'must be an object'); }
  arr(v: unknown, f: string, max = 1_000_000): unknown[] {
    if (!Array.isArray(v)) this.fail(f, 'must be a list');
    if (v.length > max) this.fail(f, `has more than ${max} entries`);
    return v;
  }
  str(v: unknown, f: string, max = 1_000_000): string {
    if (typeof v !== 'string') this.fail(f, 'must be text');
    if (v.length > max) this.fail(f, `is longer than ${max} characters`);
    return v;
  }
  num(v: unknown, f: string): number { return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(f, 'must be a number'); }
  int(v: unknown, f: string): number { return Number.isInteger(v) ? (v as number) : this.fail(f, 'must be an integer'); }
  numOrNull(v: unknown, f: string): number | null { return v === null ? null : this.num(v, f); }
  strOrNull(v: unknown, f: string): string | null { return v === null || v === undefined ? null : this.str(v, f); }
  oneOf<T extends string>(v: unknown, f: string, options: readonly T[]): T {
    return options.includes(v as T) ? (v as T) : this.fail(f, `must be one of ${options.join(', ')}`);
  }
}

const EVENT_KINDS = ['strategy', 'extend', 'force-answer', 'resample', 'restore', 'check', 'mark', 'stop'] as const;
const STOPS = ['eos', 'max-tokens', 'max-answer', 'context-full', 'cancelled'] as const;

function checkTokens(c: Check, v: unknown, f: string): void {
  c.arr(v, f).forEach((t, i) => {
    const p = `${f}[${i}]`;
    const o = c.obj(t, p);
    c.int(o.id, `${p}.id`);
    c.str(o.text, `${p}.text`, 1000);
    c.oneOf(o.source, `${p}.source`, ['model', 'inserted']);
    c.numOrNull(o.logprob, `${p}.logprob`);
    c.numOrNull(o.entropy, `${p}.entropy`);
    c.oneOf(o.phase, `${p}.phase`, ['thinking', 'answer']);
    c.arr(o.alternatives, `${p}.alternatives`, 64).forEach((a, j) => {
      const ao = c.obj(a, `${p}.alternatives[${j}]`);
      c.int(ao.id, `${p}.alternatives[${j}].id`);
      c.str(ao.text, `${p}.alternatives[${j}].text`, 1000);
      c.num(ao.logprob, `${p}.alternatives[${j}].logprob`);
    });
  });
}

/** Throws RunFileError naming the first bad field. */
export function validateTimeline(v: unknown, f: string, c: Check): Timeline {
  const t = c.obj(v, f);
  if (t.version !== 1) c.fail(`${f}.version`, 'must be 1');
  c.int(t.promptTokens, `${f}.promptTokens`);
  const samples = c.arr(t.samples, `${f}.samples`, 64);
  if (samples.length === 0) c.fail(`${f}.samples`, 'must hold at least one sample');
  samples.forEach((s, i) => {
    const p = `${f}.samples[${i}]`;
    const o = c.obj(s, p);
    c.int(o.index, `${p}.index`);
    checkTokens(c, o.tokens, `${p}.tokens`);
    const n = (o.tokens as unknown[]).length;
    c.arr(o.steps, `${p}.steps`).forEach((st, j) => {
      const so = c.obj(st, `${p}.steps[${j}]`);
      const a = c.int(so.start, `${p}.steps[${j}].start`);
      const b = c.int(so.end, `${p}.steps[${j}].end`);
      if (a < 0 || b < a || b > n) c.fail(`${p}.steps[${j}]`, `span ${a}..${b} is outside the ${n} tokens`);
      c.str(so.text, `${p}.steps[${j}].text`);
      c.oneOf(so.verdict, `${p}.steps[${j}].verdict`, ['ok', 'low', 'unchecked']);
    });
    c.arr(o.events, `${p}.events`).forEach((e, j) => {
      const eo = c.obj(e, `${p}.events[${j}]`);
      c.oneOf(eo.kind, `${p}.events[${j}].kind`, EVENT_KINDS);
      c.int(eo.at, `${p}.events[${j}].at`);
      c.str(eo.note, `${p}.events[${j}].note`, 2000);
      c.obj(eo.measurement, `${p}.events[${j}].measurement`);
      if (eo.inserted !== undefined) c.str(eo.inserted, `${p}.events[${j}].inserted`);
      if (eo.discarded !== undefined) c.str(eo.discarded, `${p}.events[${j}].discarded`);
    });
    c.arr(o.branches, `${p}.branches`).forEach((b, j) => {
      const bo = c.obj(b, `${p}.branches[${j}]`);
      c.str(bo.id, `${p}.branches[${j}].id`, 200);
      c.int(bo.at, `${p}.branches[${j}].at`);
      checkTokens(c, bo.tokens, `${p}.branches[${j}].tokens`);
      c.str(bo.text, `${p}.branches[${j}].text`);
    });
    c.str(o.text, `${p}.text`);
    c.strOrNull(o.answer, `${p}.answer`);
    c.oneOf(o.stop, `${p}.stop`, STOPS);
  });
  const main = c.int(t.main, `${f}.main`);
  if (main < 0 || main >= samples.length) c.fail(`${f}.main`, 'must index a sample');
  c.strOrNull(t.finalAnswer, `${f}.finalAnswer`);
  if (t.vote !== null && t.vote !== undefined) {
    const vo = c.obj(t.vote, `${f}.vote`);
    c.arr(vo.groups, `${f}.vote.groups`).forEach((g, j) => {
      const go = c.obj(g, `${f}.vote.groups[${j}]`);
      c.str(go.answer, `${f}.vote.groups[${j}].answer`);
      c.int(go.count, `${f}.vote.groups[${j}].count`);
    });
  }
  if (t.answerTrace !== undefined) {
    const ao = c.obj(t.answerTrace, `${f}.answerTrace`);
    c.str(ao.target, `${f}.answerTrace.target`);
    c.arr(ao.points, `${f}.answerTrace.points`).forEach((pt, j) => {
      const po = c.obj(pt, `${f}.answerTrace.points[${j}]`);
      c.int(po.step, `${f}.answerTrace.points[${j}].step`);
      c.num(po.logprob, `${f}.answerTrace.points[${j}].logprob`);
    });
  }
  return v as Timeline;
}

/** Parses and validates a run file. Throws RunFileError (file name + field + what is wrong). */
export function importRun(text: string, fileName = 'run.json'): GuideRun {
  const c = new Check(fileName);
  if (text.length > MAX_RUN_FILE) c.fail('', `is larger than ${MAX_RUN_FILE / 1024 / 1024} MiB`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    c.fail('', `is not valid JSON (${(e as Error).message})`);
  }
  const o = c.obj(json, 'file');
  if (o.format !== RUN_FORMAT) c.fail('format', `must be "${RUN_FORMAT}" (is this a playground run export?)`);
  if (o.version !== 1) c.fail('version', `${JSON.stringify(o.version)} is not supported (this app reads version 1)`);
  const r = c.obj(o.run, 'run');
  let recipe: Recipe;
  try {
    recipe = validateRecipe(r.recipe);
  } catch (e) {
    if (e instanceof RecipeError) c.fail(e.field.startsWith('recipe') ? `run.${e.field}` : `run.recipe.${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
  const run: GuideRun = {
    id: c.str(r.id, 'run.id', 200),
    createdAt: c.num(r.createdAt, 'run.createdAt'),
    recipe,
    problemText: c.str(r.problemText, 'run.problemText', 20_000),
    timeline: validateTimeline(r.timeline, 'run.timeline', c),
  };
  if (r.baseline !== undefined) run.baseline = validateTimeline(r.baseline, 'run.baseline', c);
  return run;
}
