// The recipe of a guided run (what a share link carries; validated by src/share/recipe.ts) and the
// guided run itself (stored in IndexedDB `genRuns`, exported as a run file by src/share/run-file.ts).
import type { GuideSampling, InterventionEvent, Interventions, Timeline } from './guide.ts';

export type ProblemRef =
  | { kind: 'text'; text: string; reference?: string }
  | { kind: 'bench'; set: string; id: string };

export type AdapterRef = { kind: 'hub'; id: string } | { kind: 'hash'; sha256: string };

export interface Recipe {
  v: 1;
  /** Hugging Face hub id ("owner/name") or a bundled model id ("tiny-reasoner"). */
  model: string;
  adapter?: AdapterRef;
  problem: ProblemRef;
  seed: number;
  sampling: GuideSampling;
  interventions: Interventions;
  /** The chat template's `enable_thinking` (Qwen3, SmolLM3); absent = the template's default. */
  thinking?: boolean;
  /** Show with vs without interventions side by side. */
  compare?: boolean;
  /** What the comparison varies: interventions (default) or the adapter (base vs adapter, same interventions). */
  compareWith?: 'adapter';
}

export interface GuideRun {
  id: string;
  createdAt: number;
  recipe: Recipe;
  /** The problem text the run used (bench problems resolved). */
  problemText: string;
  timeline: Timeline;
  /** Same problem and seed without interventions, when compared. */
  baseline?: Timeline;
}

/** A row of the `genRuns` store: the full run under `run`, light fields flat for listing. */
export interface GuideRunRow {
  id: string;
  createdAt: number;
  kind: 'guide';
  seed: number;
  /** The main sample's intervention events. */
  events: InterventionEvent[];
  run: GuideRun;
  model: string;
  problem: string;
  finalAnswer: string | null;
}
