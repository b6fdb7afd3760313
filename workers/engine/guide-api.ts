// Engine worker: guided inference (src/guide/engine.ts) on the loaded model. One run at a time;
// cancelGuide() stops it after the current token. With `compare`, the same problem and seed is run
// again without interventions, and both runs score the same answer after every step.
// Self-consistency's n samples decode together in a batch session of up to n slots (as many as
// BATCH_KV_BYTES of KV cache hold); one sample runs on a plain session.
import { withAdapter } from './adapter-api.ts';
import { BATCH_KV_BYTES, currentModel } from './model-api.ts';
import { sampleCount } from '../../src/guide/interventions/consistency.ts';
import { runGuided, type GuideDeps } from '../../src/guide/engine.ts';
import type { GuideProgress, GuideSettings, Timeline } from '../../src/domain/guide.ts';
import { extractAnswer, gradeAnswer } from '../../src/grading/index.ts';
import type { GuideRun, Recipe } from '../../src/domain/recipe.ts';
import { newId } from '../../src/lib/id.ts';

export interface GuideRequest {
  recipe: Recipe;
  /** The problem text (bench problems resolved by the UI). */
  problemText: string;
  reference: string | null;
}

export interface GuideResult {
  /** The run record: run.timeline, and run.baseline = the same problem and seed without
   *  interventions (recipe.compare), or with the base weights (recipe.compareWith 'adapter'). */
  run: GuideRun;
  cancelled: boolean;
}

export interface GuideProgressMsg extends GuideProgress {
  phase: 'guided' | 'baseline';
}

let active: { aborted: boolean } | undefined;

export const guideApi = {
  /** Runs a recipe on the loaded model. `onProgress` must be a Comlink.proxy from the UI. */
  async runGuide(req: GuideRequest, onProgress?: (p: GuideProgressMsg) => void): Promise<GuideResult> {
    const m = currentModel();
    if (!m) throw new Error('No model is loaded in the engine: load one (e.g. the bundled tiny model) in the Models view first.');
    if (req.recipe.model !== m.id) {
      throw new Error(`This run needs the model "${req.recipe.model}" but "${m.id}" is loaded; load it in the Models view to reproduce the run.`);
    }
    if (req.recipe.adapter?.kind === 'hub') throw new Error(`This run names the hub adapter "${req.recipe.adapter.id}"; load its PEFT files in the Train view to run it.`);
    const sha = req.recipe.adapter?.kind === 'hash' ? req.recipe.adapter.sha256 : null;
    if (req.recipe.compareWith === 'adapter' && !sha) throw new Error('Comparing base vs adapter needs an adapter: choose one.');
    if (active) throw new Error('A guided run is already in progress: cancel it or wait for it.');
    const signal = { aborted: false };
    active = signal;
    const r = req.recipe;
    const settings: GuideSettings = { seed: r.seed, sampling: r.sampling, interventions: r.interventions, ...(r.thinking === undefined ? {} : { thinking: r.thinking }) };
    const promptLen = m.tokenizer.applyChatTemplate([{ role: 'user', content: req.problemText }], r.thinking === undefined ? {} : { thinking: r.thinking }).length;
    const phraseRoom = 64 + (r.interventions.strategy ? m.tokenizer.encode(r.interventions.strategy.plan).length + 8 : 0);
    const refTokens = req.reference ? m.tokenizer.encode(` ${req.reference}`).length : 0;
    const need = promptLen + r.sampling.maxNewTokens + phraseRoom + refTokens;
    if (promptLen + 8 > m.contextLength) {
      active = undefined;
      throw new Error(`The problem takes ${promptLen} tokens, more than the ${m.contextLength}-token context the model was loaded with.`);
    }
    const len = Math.min(m.contextLength, need);
    const slots = Math.min(sampleCount(r.interventions), Math.max(1, Math.floor(BATCH_KV_BYTES / m.decoder.kvBytes(len))));
    const session = slots > 1 ? m.decoder.newBatchSession(slots, len) : m.decoder.newSession(len);
    let last = 0;
    const progress = (phase: GuideProgressMsg['phase']) => (p: GuideProgress) => {
      const now = Date.now();
      if (!onProgress || now - last < 80) return;
      last = now;
      onProgress({ ...p, phase });
    };
    const deps = (phase: GuideProgressMsg['phase']): GuideDeps => ({
      session, tokenizer: m.tokenizer, signal, onProgress: progress(phase),
      extract: (t) => extractAnswer(t)?.answer ?? null,
      equivalent: async (a, b) => (await gradeAnswer(a, b)).correct,
      equivalenceName: 'grader',
    });
    try {
      const input = { problem: req.problemText, reference: req.reference, settings };
      // the adapter (if any) is merged only while its run lasts; base weights restored after
      const timeline = await withAdapter(sha, () => runGuided({ ...input, answerTrace: r.compare ? {} : undefined }, deps('guided')));
      let baseline: Timeline | undefined;
      if (r.compare && !signal.aborted) {
        const byAdapter = r.compareWith === 'adapter';
        baseline = await withAdapter(byAdapter ? null : sha, () => runGuided(
          { ...input, settings: byAdapter ? settings : { ...settings, interventions: {} }, answerTrace: { target: timeline.answerTrace?.target ?? null } },
          deps('baseline'),
        ));
      }
      const run: GuideRun = {
        id: newId('run'), createdAt: Date.now(), recipe: r, problemText: req.problemText, timeline, ...(baseline ? { baseline } : {}),
      };
      return { run, cancelled: signal.aborted };
    } finally {
      session.dispose();
      if (active === signal) active = undefined;
    }
  },

  /** Stops the guided run in progress after its current token. */
  cancelGuide(): void {
    if (active) active.aborted = true;
  },
};
