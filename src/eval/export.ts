// Export of evaluation runs: CSV (one row per item and sample) and JSON (run + items).
import type { EvalItemRecord, EvalRunRecord } from '../domain/eval.ts';

export const CSV_COLUMNS = ['run_id', 'eval_set', 'model', 'adapter', 'budget', 'item_key', 'level', 'subject', 'sample', 'prediction', 'reference', 'correct', 'reason', 'tokens', 'stop', 'item_ms'] as const;

/** One CSV field: quoted when needed; spreadsheet formula triggers neutralised with a leading '. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+@\t\r]/.test(s) || /^-[^\d.]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function runToCsv(run: EvalRunRecord, items: readonly EvalItemRecord[]): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const it of [...items].sort((a, b) => a.index - b.index)) {
    it.samples.forEach((s, i) => {
      rows.push([
        run.id, run.evalSet, run.model, run.config.adapter ?? '', run.config.budget ?? '', it.itemKey, it.level ?? '', it.subject ?? '', i,
        s.prediction ?? '', it.reference, s.correct ? 1 : 0, s.reason, s.tokens, s.stop, it.ms,
      ].map(csvField).join(','));
    });
  }
  return rows.join('\r\n') + '\r\n';
}

export function runToJson(run: EvalRunRecord, items: readonly EvalItemRecord[]): string {
  return JSON.stringify({ format: 'reasonbridge-eval-run', version: 1, run, items: [...items].sort((a, b) => a.index - b.index) }, null, 2);
}

/** Minimal RFC 4180 CSV parser (for tests and for re-reading exports). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
