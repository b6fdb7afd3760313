// Maps one source row (any of the common shapes, or a user field mapping) to the fields of a
// Trace. Pure: the importer adds ids, pool, segments and token counts. Wrong types are reported
// with the field name; the row is then rejected, never half-filled.
import { extractAnswerText } from '../../grading/index.ts';

/** The grader's extractor, explicit markers only (\boxed, Final Answer, the answer is, ####). */
const extractAnswer = (text: string): string | undefined => extractAnswerText(text, { strict: true }) ?? undefined;

export type ShapeName = 's1k' | 'limo' | 'chat' | 'sharegpt' | 'math' | 'gsm8k' | 'mapped';

/** Source field for each Trace field (for shapes the app does not recognise). */
export interface FieldMapping {
  problem: string;
  reasoning: string;
  answer?: string;
  referenceAnswer?: string;
  domain?: string;
  level?: string;
  teacher?: string;
}

export interface MappedRow {
  problem: string;
  reasoning: string;
  answer: string;
  referenceAnswer?: string;
  domain?: string;
  level?: number;
  teacher?: string;
  /** Strategy/tactic/answer text given by the teacher (tags), if any. */
  meta: Record<string, unknown>;
}

export class RowError extends Error {
  constructor(public field: string | undefined, message: string) {
    super(message);
  }
}

/** Which known shape a row has, or undefined (then a field mapping is needed). */
export function detectShape(row: unknown): ShapeName | undefined {
  if (!row || typeof row !== 'object' || Array.isArray(row)) return undefined;
  const r = row as Record<string, unknown>;
  if ('messages' in r) return 'chat';
  if ('conversations' in r) return 'sharegpt';
  if ('question' in r && ('thinking_trajectories' in r || 'attempt' in r)) return 's1k';
  if ('question' in r && 'solution' in r) return 'limo';
  if ('problem' in r && ('solution' in r || 'answer' in r)) return 'math';
  if ('question' in r && 'answer' in r) return 'gsm8k';
  return undefined;
}

/** Rows read before the shape is decided (preview and import). */
export const SHAPE_SAMPLE_ROWS = 200;
/** Most field names listed from a sample. */
export const MAX_SAMPLE_FIELDS = 200;

export interface SampleShape {
  /** The shape most rows of the sample have (ties: the first seen), or undefined when none has a known shape. */
  shape?: ShapeName;
  /** Rows of the sample per detected shape ('unknown' for the rest). */
  counts: Record<string, number>;
  /** Every field seen in the sample's object rows, in order of first appearance. */
  fields: string[];
  rows: number;
}

/** The shape of a file from a sample of rows, so one odd row (say, the first) decides nothing. */
export function detectShapeFromSample(rows: unknown[]): SampleShape {
  const counts: Record<string, number> = {};
  const fields = new Set<string>();
  const order: ShapeName[] = [];
  for (const r of rows) {
    const s = detectShape(r);
    const k = s ?? 'unknown';
    if (s && !(s in counts)) order.push(s);
    counts[k] = (counts[k] ?? 0) + 1;
    if (r && typeof r === 'object' && !Array.isArray(r)) {
      for (const f of Object.keys(r)) if (fields.size < MAX_SAMPLE_FIELDS) fields.add(f);
    }
  }
  let shape: ShapeName | undefined;
  for (const s of order) if (!shape || counts[s] > counts[shape]) shape = s;
  return { shape, counts, fields: [...fields], rows: rows.length };
}

/** The source field a shape reads the problem from (for messages such as "empty problem"). */
export function problemField(shape: ShapeName, mapping?: FieldMapping): string {
  switch (shape) {
    case 's1k': case 'limo': case 'gsm8k': return 'question';
    case 'math': return 'problem';
    case 'chat': return 'messages';
    case 'sharegpt': return 'conversations';
    case 'mapped': return mapping?.problem ?? 'problem';
  }
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function str(r: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const v = r[field];
  if (v === undefined || v === null) {
    if (required) throw new RowError(field, `missing field "${field}"`);
    return undefined;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') {
    if (required && field !== 'answer') throw new RowError(field, `field "${field}": expected string, got ${typeName(v)}`);
    return String(v);
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join('\n\n');
  throw new RowError(field, `field "${field}": expected string, got ${typeName(v)}`);
}

function parseLevel(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const m = /(\d+(?:\.\d+)?)/.exec(v);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Splits "<think>...</think> answer" (DeepSeek-R1 / Qwen3 style) into reasoning and the rest. */
function splitThink(content: string): { reasoning: string; final: string } {
  const m = /<think>([\s\S]*?)<\/think>([\s\S]*)$/.exec(content);
  if (m) return { reasoning: m[1].trim(), final: m[2].trim() };
  return { reasoning: content, final: '' };
}

function rest(r: Record<string, unknown>, used: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(r)) if (!used.includes(k)) out[k] = r[k];
  return out;
}

function fromTurns(turns: unknown, field: string, roleKey: string, textKey: string, users: string[], bots: string[]) {
  if (!Array.isArray(turns)) throw new RowError(field, `field "${field}": expected array, got ${typeName(turns)}`);
  let problem: string | undefined;
  let assistant: Record<string, unknown> | undefined;
  turns.forEach((t, i) => {
    if (!t || typeof t !== 'object') throw new RowError(`${field}[${i}]`, `field "${field}[${i}]": expected object, got ${typeName(t)}`);
    const tt = t as Record<string, unknown>;
    const role = tt[roleKey];
    const text = tt[textKey];
    if (typeof text !== 'string') throw new RowError(`${field}[${i}].${textKey}`, `field "${field}[${i}].${textKey}": expected string, got ${typeName(text)}`);
    if (typeof role === 'string' && users.includes(role) && problem === undefined) problem = text;
    if (typeof role === 'string' && bots.includes(role)) assistant = tt;
  });
  if (problem === undefined) throw new RowError(field, `field "${field}": no ${users[0]} turn`);
  if (!assistant) throw new RowError(field, `field "${field}": no ${bots[0]} turn`);
  const content = assistant[textKey] as string;
  const rc = assistant.reasoning_content ?? assistant.reasoning;
  if (typeof rc === 'string' && rc) return { problem, reasoning: rc, final: content };
  const { reasoning, final } = splitThink(content);
  return { problem, reasoning, final };
}

export function mapRow(row: unknown, shape: ShapeName, mapping?: FieldMapping): MappedRow {
  if (!row || typeof row !== 'object' || Array.isArray(row)) throw new RowError(undefined, `expected a JSON object, got ${typeName(row)}`);
  const r = row as Record<string, unknown>;
  switch (shape) {
    case 's1k': {
      const problem = str(r, 'question', true)!;
      const reasoning = str(r, 'thinking_trajectories', false) ?? str(r, 'attempt', true)!;
      const attempt = str(r, 'attempt', false) ?? '';
      const solution = str(r, 'solution', false);
      return {
        problem, reasoning,
        answer: extractAnswer(attempt) ?? extractAnswer(reasoning) ?? attempt.trim(),
        referenceAnswer: solution ? extractAnswer(solution) ?? (solution.length < 80 ? solution.trim() : undefined) : undefined,
        domain: str(r, 'cot_type', false) ?? undefined,
        meta: { attempt, solution, ...rest(r, ['question', 'thinking_trajectories', 'attempt', 'solution']) },
      };
    }
    case 'limo': {
      const problem = str(r, 'question', true)!;
      const reasoning = str(r, 'solution', true)!;
      const answer = str(r, 'answer', false);
      return { problem, reasoning, answer: answer ?? extractAnswer(reasoning) ?? '', referenceAnswer: answer, meta: rest(r, ['question', 'solution', 'answer']) };
    }
    case 'math': {
      const problem = str(r, 'problem', true)!;
      const solution = str(r, 'solution', false);
      const given = str(r, 'answer', false);
      const reasoning = solution ?? '';
      const ref = given ?? (solution ? extractAnswer(solution) : undefined);
      return {
        problem, reasoning,
        answer: (solution ? extractAnswer(solution) : undefined) ?? given ?? '',
        referenceAnswer: ref,
        domain: str(r, 'subject', false) ?? str(r, 'type', false),
        level: parseLevel(r.level),
        meta: rest(r, ['problem', 'solution', 'answer', 'subject', 'type', 'level']),
      };
    }
    case 'gsm8k': {
      const problem = str(r, 'question', true)!;
      const full = str(r, 'answer', true)!;
      const m = /\n?####\s*(.*)\s*$/.exec(full);
      const answer = (extractAnswer(full) ?? '').replace(/,(?=\d{3}\b)/g, '');
      return { problem, reasoning: m ? full.slice(0, m.index).trim() : full, answer, referenceAnswer: m ? answer : undefined, meta: rest(r, ['question', 'answer']) };
    }
    case 'chat': {
      const t = fromTurns(r.messages, 'messages', 'role', 'content', ['user'], ['assistant']);
      return { problem: t.problem, reasoning: t.reasoning, answer: extractAnswer(t.final) ?? extractAnswer(t.reasoning) ?? t.final, referenceAnswer: optStr(r, 'reference_answer'), meta: rest(r, ['messages']) };
    }
    case 'sharegpt': {
      const t = fromTurns(r.conversations, 'conversations', 'from', 'value', ['human', 'user'], ['gpt', 'assistant']);
      return { problem: t.problem, reasoning: t.reasoning, answer: extractAnswer(t.final) ?? extractAnswer(t.reasoning) ?? t.final, referenceAnswer: optStr(r, 'reference_answer'), meta: rest(r, ['conversations']) };
    }
    case 'mapped': {
      if (!mapping) throw new RowError(undefined, 'no field mapping given');
      const problem = str(r, mapping.problem, true)!;
      const reasoning = str(r, mapping.reasoning, true)!;
      const given = mapping.answer ? str(r, mapping.answer, false) : undefined;
      const used = Object.values(mapping).filter((x): x is string => typeof x === 'string');
      return {
        problem, reasoning,
        answer: given ?? extractAnswer(reasoning) ?? '',
        referenceAnswer: mapping.referenceAnswer ? str(r, mapping.referenceAnswer, false) : undefined,
        domain: mapping.domain ? str(r, mapping.domain, false) : undefined,
        level: mapping.level ? parseLevel(r[mapping.level]) : undefined,
        teacher: mapping.teacher ? str(r, mapping.teacher, false) : undefined,
        meta: rest(r, used),
      };
    }
  }
}

function optStr(r: Record<string, unknown>, k: string): string | undefined {
  return typeof r[k] === 'string' ? (r[k] as string) : typeof r[k] === 'number' ? String(r[k]) : undefined;
}
