// Problem sources for a generation job: a pasted list or the rows of a (non-evaluation) pool.
import type { JobProblem } from '../domain/teacher.ts';

export interface ParseResult {
  problems: JobProblem[];
  errors: string[];
}

/** Parse pasted problems. Either JSONL (one {"problem"|"question", "answer"?} object per line) or
 *  plain text: one problem per line, with an optional reference answer after a TAB or " => ".
 *  Errors name the line. */
export function parsePastedProblems(text: string): ParseResult {
  const problems: JobProblem[] = [];
  const errors: string[] = [];
  const lines = text.split(/\r?\n/);
  const nonEmpty = lines.filter((l) => l.trim());
  const jsonl = nonEmpty.length > 0 && nonEmpty.every((l) => l.trim().startsWith('{'));
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const origin = `pasted:${i + 1}`;
    if (jsonl) {
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        errors.push(`line ${i + 1}: not valid JSON (${(e as Error).message})`);
        return;
      }
      const p = row.problem ?? row.question;
      if (typeof p !== 'string' || !p.trim()) {
        errors.push(`line ${i + 1}: field "problem" (or "question") must be a non-empty string`);
        return;
      }
      const a = row.answer ?? row.reference ?? row.solution_answer;
      if (a !== undefined && typeof a !== 'string' && typeof a !== 'number') {
        errors.push(`line ${i + 1}: field "answer" must be a string or number`);
        return;
      }
      problems.push({
        problem: p.trim(),
        reference: a === undefined ? undefined : String(a),
        domain: typeof row.domain === 'string' ? row.domain : typeof row.subject === 'string' ? row.subject : undefined,
        level: typeof row.level === 'number' ? row.level : undefined,
        origin,
      });
    } else {
      const m = /^(.*?)(?:\t| => )(.+)$/.exec(line);
      problems.push(m ? { problem: m[1].trim(), reference: m[2].trim(), origin } : { problem: line, origin });
    }
  });
  return { problems, errors };
}
