// The adapter recipe measured on the tiny world: the main row of `npm run experiment:tiny` (Reason1K,
// importance placement at 10% of the base, 40 steps of 16 packed traces at lr 1e-2; on the textbook-
// stage student 5.5% -> 56.5% on 200 held-out problems). The pipeline view trains with it too, so
// "Run the whole pipeline" shows the effect the README's table reports.
export const WORLD_RECIPE = {
  budget: 0.1, steps: 40, batchSize: 16, lr: 1e-2, pool: 6000, select: 1000, probeExamples: 8,
  /** the hierarchical loss with every lambda at 1 */
  loss: { strategy: 1, tactics: 1, answer: 1 },
} as const;

/** Linear warmup over the first 5% of the steps (at least one). */
export const worldWarmup = (steps: number): number => Math.max(1, Math.floor(steps / 20));
