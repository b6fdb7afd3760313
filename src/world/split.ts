// The world's fixed splits: a held-out test set (a benchmark like MATH500) and the train pool it is
// decontaminated from. Seeds are fixed here so every caller (the app, `npm run world`, the
// experiment, the student's build) sees the same problems.
import { EvalIndex } from '../selection/eval-index.ts';
import { type WorldProblem, generateProblems } from './generator.ts';

export const TEST_SEED = 9001;
export const TEST_SIZE = 1000;
export const TRAIN_SEED = 4242;
export const TRAIN_SIZE = 20000;
/** The selection's default decontamination: 8-grams, 50% overlap (DEFAULT_SELECTION). */
export const DECONTAM = { n: 8, threshold: 0.5 };

/** The held-out test set: 1,000 problems, every domain x level cell equally often. */
export function worldTestSet(n = TEST_SIZE): WorldProblem[] {
  return generateProblems({ seed: TEST_SEED, n, idPrefix: 'tw-test-' });
}

/** Benchmark rows (public/data/tiny_world_test.jsonl): id, problem, answer, level, subject (= domain). */
export function testRows(problems: readonly WorldProblem[]): Array<{ id: string; problem: string; answer: string; level: string; subject: string }> {
  return problems.map((p) => ({ id: p.id, problem: p.problem, answer: p.answer, level: `Level ${p.level}`, subject: p.domain }));
}

/** The train pool's problems with every one that overlaps the test set (as the selection measures it) removed. */
export function worldTrainProblems(n = TRAIN_SIZE, test: readonly WorldProblem[] = worldTestSet()): { problems: WorldProblem[]; removed: number } {
  const index = new EvalIndex(test.map((p) => ({ set: 'tiny_world', key: p.id, problem: p.problem })), DECONTAM.n);
  const out: WorldProblem[] = [];
  let removed = 0;
  // generate a little more than n, so n remain after decontamination
  for (const p of generateProblems({ seed: TRAIN_SEED, n: Math.ceil(n * 1.1), idPrefix: 'tw-train-' })) {
    if (out.length >= n) break;
    if (index.check(p.problem, DECONTAM.threshold)) { removed++; continue; }
    out.push(p);
  }
  return { problems: out, removed };
}
