// Engine-worker module for the Reason1K selection: the loaded student's NLL of each trace's
// reference answer (src/selection/student-difficulty.ts), read straight from IndexedDB.
import { openDb } from '../../src/data/db.ts';
import { getPoolTraces } from '../../src/data/pool-store.ts';
import { answerNll } from '../../src/selection/student-difficulty.ts';
import { currentModel } from './model-api.ts';

let cancelled = false;

export const difficultyApi = {
  /** trace id -> mean NLL per answer token, for traces with a reference answer (at most `limit`). */
  async studentAnswerNll(poolId: string, onProgress?: (done: number, total: number) => void, limit = Infinity): Promise<Record<string, number>> {
    const model = currentModel();
    if (!model) throw new Error('no model loaded: load a student in Models / Device first');
    cancelled = false;
    const traces = (await getPoolTraces(poolId, await openDb())).filter((t) => t.referenceAnswer?.trim()).sort((a, b) => a.seq - b.seq).slice(0, limit);
    const session = model.decoder.newSession(Math.min(model.contextLength, 1024));
    const out: Record<string, number> = {};
    try {
      for (let i = 0; i < traces.length; i++) {
        if (cancelled) throw Object.assign(new Error('student scoring cancelled'), { name: 'AbortError' });
        const r = await answerNll(session, model.tokenizer, traces[i].problem, traces[i].referenceAnswer!);
        if (r) out[traces[i].id] = r.nll;
        if (i % 10 === 0) onProgress?.(i, traces.length);
      }
      onProgress?.(traces.length, traces.length);
      return out;
    } finally {
      session.dispose();
    }
  },
  cancelStudentNll(): void {
    cancelled = true;
  },
};
