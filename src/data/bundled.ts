// Data bundled with the app under public/data/ (copied unchanged from the project's shared data;
// provenance from its README). The GSM8K train split is offered as a pool; the test sets are
// evaluation sets only: the importer refuses them as pools and the selection decontaminates
// every pool against all of them. loadEvalSet is the one way to read an evaluation set (views,
// the engine worker, scripts).
import { parseBenchmark, type Benchmark } from '../eval/benchmarks.ts';
import type { ProblemRef } from '../domain/recipe.ts';

export interface BundledFile {
  id: string;
  file: string;
  title: string;
  rows: number;
  provenance: string;
  licence: string;
}

export const BUNDLED_POOL: BundledFile = {
  id: 'gsm8k_train', file: 'gsm8k_train.jsonl', title: 'GSM8K train', rows: 7473,
  provenance: 'openai/grade-school-math grade_school_math/data/train.jsonl @ 3101c7d', licence: 'MIT',
};

export const EVAL_SETS: BundledFile[] = [
  { id: 'math500', file: 'math500.jsonl', title: 'MATH500', rows: 500, provenance: 'GAIR-NLP/LIMO eval/data/math/test.jsonl @ 2284c6a', licence: 'MATH (Hendrycks et al.): MIT' },
  { id: 'aime24', file: 'aime24.jsonl', title: 'AIME 2024', rows: 30, provenance: 'QwenLM/Qwen2.5-Math evaluation/data/aime24/test.jsonl @ a45202b', licence: 'problems © MAA, used for research evaluation' },
  { id: 'amc23', file: 'amc23.jsonl', title: 'AMC 2023', rows: 40, provenance: 'QwenLM/Qwen2.5-Math evaluation/data/amc23/test.jsonl @ a45202b', licence: 'problems © MAA, used for research evaluation' },
  { id: 'gsm8k_test', file: 'gsm8k_test.jsonl', title: 'GSM8K test', rows: 1319, provenance: 'openai/grade-school-math grade_school_math/data/test.jsonl @ 3101c7d', licence: 'MIT' },
];

/** URL of a bundled file, relative to the app's base (works on static hosts under a sub-path). */
export function bundledUrl(base: string, file: string): string {
  return new URL(`data/${file}`, base).href;
}

/** Reads a bundled file's text: over HTTP under the app's base URL in the app, from disk in scripts. */
export type BundledReader = (file: string) => Promise<string>;

/** Fetches bundled files under `base` (the page's or worker's base URL). */
export function fetchBundled(base: string): BundledReader {
  return async (file) => {
    const url = bundledUrl(base, file);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`could not load ${file}: HTTP ${res.status} from ${url}`);
    return res.text();
  };
}

const loaded = new Map<string, Promise<Benchmark>>();

/** The bundled evaluation set `setId`, parsed (bad rows listed, not thrown). Cached per reader key
 *  (the base URL or data folder), since the bundled files never change. */
export function loadEvalSet(setId: string, read: BundledReader, key = ''): Promise<Benchmark> {
  const meta = EVAL_SETS.find((s) => s.id === setId);
  if (!meta) return Promise.reject(new Error(`unknown evaluation set "${setId}" (bundled: ${EVAL_SETS.map((s) => s.id).join(', ')})`));
  const k = `${key}\n${setId}`;
  let p = loaded.get(k);
  if (!p) {
    p = read(meta.file).then((text) => parseBenchmark(setId, text));
    loaded.set(k, p);
    p.catch(() => loaded.delete(k));
  }
  return p;
}

/** Problem text and reference of a recipe's problem (a bench problem is looked up in its bundled set). */
export async function resolveProblem(problem: ProblemRef, base: string): Promise<{ text: string; reference: string | null }> {
  if (problem.kind === 'text') return { text: problem.text, reference: problem.reference ?? null };
  const item = (await loadEvalSet(problem.set, fetchBundled(base), base)).items.find((i) => i.key === problem.id);
  if (!item) throw new Error(`problem "${problem.id}" is not in the bundled ${problem.set} set`);
  return { text: item.problem, reference: item.answer };
}
