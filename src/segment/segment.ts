// Hierarchical segmentation of a reasoning text into strategy / tactic / check / answer spans
// (DESIGN.md). Priority: teacher-provided segments or tags, then explicit markers ("Plan:",
// "Strategy:", "Final Answer:"), then the heuristic (opening paragraph before the first
// computation = strategy; the span holding the final answer = answer; the rest = tactics). Within
// the tactics, lines that verify or correct a step ("Check: ...", "Verify: ...", "Wait, ...") are
// check spans, so the loss can weight them on their own.
import type { Segment } from '../domain/trace.ts';

const TAGS: Record<string, Segment['kind']> = {
  strategy: 'strategy', plan: 'strategy', abstraction: 'strategy',
  tactic: 'tactic', tactics: 'tactic', step: 'tactic', steps: 'tactic',
  check: 'check', verify: 'check', reflection: 'check',
  answer: 'answer', final: 'answer',
};

/** Spans from XML-like tags in the text (<strategy>…</strategy>, <step>…</step>, <answer>…</answer>). */
export function tagSegments(text: string): Segment[] {
  const out: Segment[] = [];
  const re = /<(strategy|plan|abstraction|tactics?|steps?|check|verify|reflection|answer|final)>([\s\S]*?)<\/\1>/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const kind = TAGS[m[1].toLowerCase()];
    const start = m.index + m[0].indexOf('>') + 1;
    out.push({ kind, start, end: start + m[2].length, source: 'teacher' });
  }
  return out;
}

const STRATEGY_MARK = /^(?:\*\*|#+\s*)?(?:strategy|plan|approach|high-level plan|overall idea|key idea)\s*[:：]/im;
const TACTIC_MARK = /^(?:\*\*|#+\s*)?(?:step\s*1\b|steps?\s*[:：]|execution\s*[:：]|solution\s*[:：])/im;
const ANSWER_MARK = /^(?:\*\*|#+\s*)?(?:final answer|answer)\s*[:：]|^####/im;
// A "computation": an equation, arithmetic between numbers, a calculator note or display math.
const COMPUTATION = /\d\s*[-+*/×÷^=]\s*\d|[a-z0-9)]\s*=\s*[-a-z0-9(\\]|<<|\\\[|\$\$|\\frac|\\cdot|\\times/i;

/** Where the final answer span starts: an answer marker, or the line holding the last \boxed. */
function answerStart(text: string): { at: number; marker: boolean } {
  const marks = [...text.matchAll(new RegExp(ANSWER_MARK.source, 'gim'))];
  if (marks.length) return { at: marks[marks.length - 1].index!, marker: true };
  const b = text.lastIndexOf('\\boxed');
  if (b >= 0) {
    // Start of the sentence/line holding it.
    const nl = text.lastIndexOf('\n', b);
    const dot = text.lastIndexOf('. ', b);
    return { at: Math.max(nl + 1, dot >= 0 ? dot + 2 : 0), marker: false };
  }
  const lines = text.trimEnd().split('\n');
  const last = lines[lines.length - 1];
  return { at: text.trimEnd().length - last.length, marker: false };
}

/** A line that checks or corrects a step: "Check:", "Verify:", "Wait" (s1's reconsideration word). */
const CHECK_LINE = /^(?:\*\*)?(?:check|verify|verification|wait)\b[^\n]*(?:\n|$)/gim;

/** The tactic span [start, end) split into tactic and check spans at check lines (contiguous, covering it). */
export function splitChecks(text: string, start: number, end: number, source: Segment['source']): Segment[] {
  const out: Segment[] = [];
  let at = start;
  const body = text.slice(start, end);
  for (const m of body.matchAll(CHECK_LINE)) {
    const s = start + m.index!;
    if (s > 0 && text[s - 1] !== '\n') continue; // the span starts mid-line: not a line start
    const e = Math.min(end, s + m[0].length);
    if (s > at) out.push({ kind: 'tactic', start: at, end: s, source });
    const last = out[out.length - 1];
    if (last?.kind === 'check' && last.end === s) last.end = e;
    else out.push({ kind: 'check', start: s, end: e, source: 'marker' });
    at = e;
  }
  if (end > at) out.push({ kind: 'tactic', start: at, end, source });
  return out;
}

/** Default segments of `reasoning` (no teacher segments given). Spans are contiguous and cover the text. */
export function segmentReasoning(reasoning: string): Segment[] {
  const text = reasoning;
  const n = text.length;
  if (n === 0) return [];
  const tagged = tagSegments(text);
  if (tagged.length) return tagged;

  const ans = answerStart(text);
  let ansAt = ans.at;
  let stratEnd = 0;
  let stratSource: Segment['source'] = 'heuristic';
  const sm = STRATEGY_MARK.exec(text);
  if (sm && sm.index < ansAt) {
    stratSource = 'marker';
    const tm = TACTIC_MARK.exec(text.slice(sm.index + sm[0].length));
    const afterStrat = tm ? sm.index + sm[0].length + tm.index : text.indexOf('\n\n', sm.index);
    stratEnd = afterStrat > 0 ? afterStrat : ansAt;
  } else {
    // Opening paragraph, cut at the sentence where the first computation appears.
    const para = text.indexOf('\n\n');
    const firstPara = para < 0 ? ansAt : Math.min(para, ansAt);
    const comp = COMPUTATION.exec(text.slice(0, firstPara));
    if (!comp) stratEnd = firstPara;
    else {
      const before = text.slice(0, comp.index);
      const cut = Math.max(before.lastIndexOf('. '), before.lastIndexOf('\n'));
      stratEnd = cut > 0 ? cut + 1 : 0;
    }
  }
  stratEnd = Math.min(stratEnd, ansAt);
  if (ansAt <= stratEnd) ansAt = stratEnd;
  const segs: Segment[] = [];
  if (stratEnd > 0) segs.push({ kind: 'strategy', start: 0, end: stratEnd, source: stratSource });
  if (ansAt > stratEnd) segs.push(...splitChecks(text, stratEnd, ansAt, 'heuristic'));
  if (n > ansAt) segs.push({ kind: 'answer', start: ansAt, end: n, source: ans.marker ? 'marker' : 'heuristic' });
  return segs;
}

/** Segments for a trace: teacher-provided ones win; otherwise computed from the text. */
export function segmentTrace(t: { reasoning: string; segments?: Segment[] }): Segment[] {
  if (t.segments?.some((s) => s.source === 'teacher' || s.source === 'user')) return t.segments;
  return segmentReasoning(t.reasoning);
}

/** User edit: strategy ends at `strategyEnd`, answer starts at `answerStart` (clamped, ordered). */
export function editSegments(text: string, strategyEnd: number, answerStartAt: number): Segment[] {
  const n = text.length;
  const s = Math.max(0, Math.min(n, Math.round(strategyEnd)));
  const a = Math.max(s, Math.min(n, Math.round(answerStartAt)));
  const segs: Segment[] = [];
  if (s > 0) segs.push({ kind: 'strategy', start: 0, end: s, source: 'user' });
  if (a > s) segs.push({ kind: 'tactic', start: s, end: a, source: 'user' });
  if (n > a) segs.push({ kind: 'answer', start: a, end: n, source: 'user' });
  return segs;
}
