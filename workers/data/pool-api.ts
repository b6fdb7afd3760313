// Reading pools for the view (light rows), running a selection, exporting JSONL.
import { openDb } from '../../src/data/db.ts';
import { getPoolTraces, getSelection, poolTracesPage, putSelection } from '../../src/data/pool-store.ts';
import { toRow, traceToJsonl, type TraceRow } from '../../src/data/rows.ts';
import type { Selection, SelectionConfig } from '../../src/domain/selection.ts';
import { gradeAnswer } from '../../src/grading/equivalence.ts';
import { runSelection } from '../../src/selection/select.ts';
import { newId } from '../../src/lib/id.ts';
import { endJob, evalIndex, startJob } from './context.ts';

export interface SelectionRequest {
  poolId: string;
  name: string;
  config: SelectionConfig;
  seed: number;
  /** Student NLL of each trace's reference answer, when a model is loaded (id -> nats/token). */
  studentNll?: Record<string, number>;
  /** Let the grader use the CAS for answer equivalence (slower). */
  symbolicCheck?: boolean;
}

export const poolApi = {
  /** Table rows of traces with seq in [fromSeq, fromSeq + limit), in seq order (the page loads a
   *  big pool in pages so no single message takes long to deserialise). */
  async poolRows(poolId: string, fromSeq = 0, limit = 2000): Promise<TraceRow[]> {
    return (await poolTracesPage(poolId, fromSeq, limit)).map(toRow);
  },

  async runSelection(jobId: string, req: SelectionRequest, onProgress?: (phase: string, done: number, total: number) => void): Promise<Selection> {
    const signal = startJob(jobId);
    try {
      const db = await openDb();
      onProgress?.('loading traces', 0, 1);
      const traces = await getPoolTraces(req.poolId, db);
      onProgress?.('indexing evaluation sets', 0, 1);
      const idx = await evalIndex(req.config.decontamN);
      const out = await runSelection({
        traces, config: req.config, seed: req.seed, evalIndex: idx, signal, onProgress,
        // The grader's equivalence (Hendrycks/PRM800K rules, numeric); the CAS only when asked, as it is slow per trace.
        equivalent: async (a, r) => (await gradeAnswer(a, r, { symbolic: req.symbolicCheck ?? false })).correct,
        studentNll: req.studentNll ? new Map(Object.entries(req.studentNll)) : undefined,
      });
      const sel: Selection = {
        id: newId('sel'),
        poolId: req.poolId, name: req.name, createdAt: Date.now(), config: req.config, seed: req.seed, ...out,
      };
      await putSelection(sel, db);
      return sel;
    } finally {
      endJob(jobId);
    }
  },

  /** JSONL of a pool, or of a selection's kept traces in selection order. */
  async exportJsonl(poolId: string, selectionId?: string): Promise<Blob> {
    const db = await openDb();
    const traces = await getPoolTraces(poolId, db);
    let list = traces.sort((a, b) => a.seq - b.seq);
    if (selectionId) {
      const sel = await getSelection(selectionId, db);
      if (!sel) throw new Error(`selection ${selectionId} not found`);
      const byId = new Map(traces.map((t) => [t.id, t]));
      list = sel.ids.map((id) => byId.get(id)).filter((t) => t !== undefined);
    }
    return new Blob(list.map((t) => traceToJsonl(t) + '\n'), { type: 'application/jsonl' });
  },
};
