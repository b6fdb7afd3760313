// The world's train pool as domain traces (what the Data view stores and the selection reads), with
// the flaw of each flawed trace kept apart: the selection never sees it.
import type { Trace } from '../domain/trace.ts';
import { segmentReasoning } from '../segment/segment.ts';
import { type WorldProblem } from './generator.ts';
import { worldTrainProblems } from './split.ts';
import { type FlawKind, type TeacherStyle, type WorldTrace, teachWorld } from './teacher.ts';

export const WORLD_TEACHER = 'world-teacher (programmatic)';

/** A world trace as a pool trace (seq = position in the pool). */
export function toTrace(t: WorldTrace, poolId: string, seq: number): Trace {
  return {
    id: `${poolId}:${seq}`, poolId, seq, problem: t.problem, reasoning: t.reasoning, answer: t.answer, referenceAnswer: t.referenceAnswer,
    domain: t.domain, source: 'tiny-world', teacher: WORLD_TEACHER, level: t.level,
    tokenCounts: { problem: Math.ceil(t.problem.length / 4), reasoning: Math.ceil(t.reasoning.length / 4), answer: Math.ceil(t.answer.length / 4), method: 'estimate' },
    segments: segmentReasoning(t.reasoning), meta: { worldId: t.id },
  };
}

export interface WorldPool {
  traces: Trace[];
  /** flaw per trace id (of `traces`), absent = clean */
  flaws: Map<string, FlawKind>;
  /** problems dropped from the pool because they overlap the test set */
  decontaminated: number;
  problems: WorldProblem[];
}

/** The pool: `n` decontaminated train problems taught by the programmatic teacher (seeded). */
export function worldPool(opts: { n: number; seed: number; poolId?: string; flawRate?: number; style?: TeacherStyle }): WorldPool {
  const poolId = opts.poolId ?? 'tiny-world';
  const { problems, removed } = worldTrainProblems(opts.n);
  const { traces: wt, flaws: wf } = teachWorld(problems, { seed: opts.seed, flawRate: opts.flawRate, style: opts.style });
  const traces = wt.map((t, i) => toTrace(t, poolId, i));
  const flaws = new Map<string, FlawKind>();
  wt.forEach((t, i) => { const f = wf.get(t.id); if (f) flaws.set(traces[i].id, f); });
  return { traces, flaws, decontaminated: removed, problems };
}

/** The pool's name in the Data view. */
export function worldPoolName(o: { n: number; seed: number }): string {
  return `Tiny world (${o.n} problems, seed ${o.seed})`;
}
