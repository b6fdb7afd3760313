// Data bundled with the app under public/data/ (copied unchanged from the project's shared data;
// provenance from its README). The GSM8K train split is offered as a pool; the test sets are
// evaluation sets only: the importer refuses them as pools and the selection decontaminates
// every pool against all of them.

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
