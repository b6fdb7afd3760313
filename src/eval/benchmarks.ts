// Benchmark rows -> evaluation items, per bundled set (field names as in public/data/README.md).
// Bad rows (invalid JSON, no problem, no answer, unparsable answer) are reported with their line
// and field, never thrown. Subsets: all, a seeded random subset of n, by level, by subject.
import { mulberry32 } from '../lib/rng.ts';
import { extractAnswer } from '../grading/extract.ts';
import type { SubsetSpec } from '../domain/eval.ts';

export interface BenchmarkItem {
  /** Stable key within the set (MATH unique_id, AIME/AMC id, GSM8K line number). */
  key: string;
  /** 0-based position in the file. */
  index: number;
  problem: string;
  answer: string;
  level?: string;
  subject?: string;
}

export interface BadRow { line: number; error: string }

export interface Benchmark {
  id: string;
  items: BenchmarkItem[];
  bad: BadRow[];
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? String(v) : String(v);
  return null;
}

/** Parses one bundled set's JSONL. `setId` picks the field mapping (unknown ids use problem/answer). */
export function parseBenchmark(setId: string, jsonl: string): Benchmark {
  const items: BenchmarkItem[] = [];
  const bad: BadRow[] = [];
  const seen = new Set<string>();
  const lines = jsonl.split('\n');
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    const line = i + 1;
    let row: Record<string, unknown>;
    try {
      const v = JSON.parse(raw);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      row = v as Record<string, unknown>;
    } catch (e) {
      bad.push({ line, error: `${setId}.jsonl line ${line}: invalid JSON (${(e as Error).message})` });
      continue;
    }
    const problem = text(row.problem) ?? text(row.question);
    if (problem === null) { bad.push({ line, error: `${setId}.jsonl line ${line}: field "problem"/"question" missing or empty` }); continue; }
    let answer: string | null;
    if (setId.startsWith('gsm8k')) {
      const a = text(row.answer);
      const hash = a ? extractAnswer(a, { strict: true }) : null;
      answer = hash?.method === 'gsm8k-hash' ? hash.answer.replace(/,(?=\d{3}\b)/g, '') : null;
      if (answer === null) { bad.push({ line, error: `${setId}.jsonl line ${line}: field "answer" has no "#### N" line` }); continue; }
    } else {
      answer = text(row.answer);
      if (answer === null && typeof row.solution === 'string') answer = extractAnswer(row.solution)?.answer ?? null;
      if (answer === null) { bad.push({ line, error: `${setId}.jsonl line ${line}: field "answer" missing or not a string/number` }); continue; }
    }
    let key = text(row.unique_id) ?? text(row.id) ?? `${setId}-${line}`;
    if (seen.has(key)) key = `${key}#${line}`;
    seen.add(key);
    const item: BenchmarkItem = { key, index: index++, problem, answer };
    const level = text(row.level);
    const subject = text(row.subject) ?? text(row.type);
    if (level !== null) item.level = level;
    if (subject !== null) item.subject = subject;
    items.push(item);
  }
  return { id: setId, items, bad };
}

/** Seeded Fisher-Yates sample of n items, returned in file order. */
function sample<T extends { index: number }>(items: readonly T[], n: number, seed: number): T[] {
  if (n >= items.length) return [...items];
  const rng = mulberry32(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, Math.max(0, n)).sort((x, y) => x.index - y.index);
}

export function selectSubset(items: readonly BenchmarkItem[], spec: SubsetSpec): BenchmarkItem[] {
  switch (spec.kind) {
    case 'all': return [...items];
    case 'random': return sample(items, spec.n, spec.seed);
    case 'level': {
      const want = new Set(spec.levels.map(String));
      const f = items.filter((i) => i.level !== undefined && want.has(i.level));
      return spec.n ? sample(f, spec.n, spec.seed ?? 0) : f;
    }
    case 'subject': {
      const want = new Set(spec.subjects);
      const f = items.filter((i) => i.subject !== undefined && want.has(i.subject));
      return spec.n ? sample(f, spec.n, spec.seed ?? 0) : f;
    }
  }
}

/** Distinct levels and subjects of a set (for the subset picker). */
export function facets(items: readonly BenchmarkItem[]): { levels: string[]; subjects: string[] } {
  const levels = [...new Set(items.map((i) => i.level).filter((x): x is string => x !== undefined))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const subjects = [...new Set(items.map((i) => i.subject).filter((x): x is string => x !== undefined))].sort();
  return { levels, subjects };
}
