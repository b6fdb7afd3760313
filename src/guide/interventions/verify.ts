// Step verification: at each step boundary the step's confidence (log-probs and entropy) is
// compared with a threshold; below it the step is marked, followed by a check phrase, or resampled
// up to k times (then the most confident attempt is kept). With `by: 'check'` a step is decided by a
// check line instead (checkVerification below): the one the model wrote after the step, or, when it
// wrote none, the continuation of an inserted "Check:"; a check whose result does not give the
// step back resamples the step.
import type { BranchRecord } from '../../domain/guide.ts';
import { INTERVENTION_DEFAULTS } from './defaults.ts';
import type { Intervention, InterventionFactory, SampleControl } from './types.ts';
import { measure, round } from './types.ts';
import { type Computation, checkAgrees, parseCheckLine, parseStepLine } from './check-line.ts';

export const stepVerification: InterventionFactory = (settings) => {
  const v = settings.interventions.verify;
  if (!v) return null;
  if (v.by === 'check') return checkVerification(settings);
  /** Resample attempts per step start. */
  const attempts = new Map<number, { count: number }>();
  const checkPhrase = v.checkPhrase || INTERVENTION_DEFAULTS.verify.checkPhrase;
  return {
    maxStepTokens: v.maxStepTokens ?? 0,
    step(s, { start, end, confidence: conf, canAct }) {
      const tried = attempts.get(start)?.count ?? 0;
      if (!conf) { s.pushStep(start, end, conf, tried, 'unchecked'); s.stepStart = end; return []; }
      if (!canAct || conf.score >= v.threshold) {
        s.pushStep(start, end, conf, tried, conf.score < v.threshold ? 'low' : 'ok');
        s.stepStart = end;
        return [];
      }
      if (v.action === 'mark') {
        s.pushStep(start, end, conf, 0, 'low');
        s.stepStart = end;
        return [{ kind: 'mark', at: start, measurement: measure(conf, v.threshold), note: 'low-confidence step marked' }];
      }
      if (v.action === 'check') {
        s.pushStep(start, end, conf, 0, 'low');
        s.stepStart = end;
        s.rewind(end);
        const sep = /\s$/.test(s.text()) ? '' : ' ';
        const ins = s.insert(sep + checkPhrase);
        return [{ kind: 'check', at: ins.at, inserted: sep + checkPhrase, measurement: measure(conf, v.threshold), note: 'check phrase inserted after a low-confidence step' }];
      }
      // resample
      const a = attempts.get(start) ?? { count: 0 };
      attempts.set(start, a);
      const attemptTokens = s.tokens.slice(start, end);
      const branch = (): BranchRecord => ({
        id: `s${s.index}-t${start}-a${a.count}`, sample: s.index, kind: 'resample', at: start,
        tokens: attemptTokens, text: attemptTokens.map((t) => t.text).join(''), confidence: conf,
      });
      if (a.count < v.maxResamples) {
        const b = branch();
        s.branches.push(b);
        a.count++;
        s.rewind(start);
        s.reseed('resample', start, a.count);
        // greedy decoding would redraw the same step: draw the attempt at the resample temperature
        if (s.settings.sampling.temperature === 0) s.setStepTemperature(v.resampleTemperature ?? INTERVENTION_DEFAULTS.verify.resampleTemperature);
        return [{
          kind: 'resample', at: start, discarded: b.text, branchId: b.id,
          measurement: measure(conf, v.threshold, { attempt: a.count }), note: `step resampled (attempt ${a.count} of ${v.maxResamples})`,
        }];
      }
      // Out of attempts: keep the most confident of the discarded attempts and this one.
      const earlier = s.branches.filter((b) => b.at === start && b.sample === s.index && b.confidence);
      const best = earlier.reduce<BranchRecord | null>((m, b) => (!m || b.confidence!.score > m.confidence!.score ? b : m), null);
      if (!best || best.confidence!.score <= conf.score) {
        s.pushStep(start, end, conf, a.count, 'low');
        s.stepStart = end;
        return [];
      }
      const cur = branch();
      s.branches.push(cur);
      s.rewind(start);
      s.appendTokens(best.tokens.map((t) => ({ ...t, alternatives: t.alternatives.map((x) => ({ ...x })) })));
      s.pushStep(start, s.tokens.length, best.confidence, a.count, 'low');
      s.stepStart = s.tokens.length;
      return [{
        kind: 'restore', at: start, discarded: cur.text, inserted: best.text, branchId: best.id,
        measurement: measure(best.confidence!, v.threshold, { discardedScore: round(conf.score) }), note: 'all resamples below threshold: most confident attempt kept',
      }];
    },
  };
};

/** The cue inserted after a step that has no check line of its own. */
export const CHECK_CUE = 'Check:';

/** Verification by a check line: the step's operation against the check's result (src/guide/interventions/check-line.ts). */
function checkVerification(settings: Parameters<InterventionFactory>[0]): Intervention {
  const v = settings.interventions.verify!;
  const attempts = new Map<number, number>();
  /** A step waiting for the check the model writes after an inserted cue. */
  let pending: { start: number; end: number; step: Computation } | null = null;

  const resample = (s: SampleControl, start: number, discarded: string, m: Record<string, number | string>, tried: number) => {
    attempts.set(start, tried + 1);
    const b: BranchRecord = { id: `s${s.index}-t${start}-a${tried}`, sample: s.index, kind: 'resample', at: start, tokens: s.tokens.slice(start), text: discarded, confidence: null };
    s.branches.push(b);
    s.rewind(start);
    s.stepStart = start;
    s.reseed('check-resample', start, tried + 1);
    if (s.settings.sampling.temperature === 0) s.setStepTemperature(v.resampleTemperature ?? INTERVENTION_DEFAULTS.verify.resampleTemperature);
    return [{ kind: 'resample' as const, at: start, discarded, branchId: b.id, measurement: { ...m, attempt: tried + 1 }, note: `check disagrees with the step: resampled (attempt ${tried + 1} of ${v.maxResamples})` }];
  };
  /** The check of `step` decided: keep, or resample the step from `start`. */
  const decide = (s: SampleControl, start: number, step: Computation, check: NonNullable<ReturnType<typeof parseCheckLine>>, canAct: boolean) => {
    const first = check.computations[0];
    const m = { step: `${step.a} ${step.op} ${step.b} = ${step.c}`, check: first ? `${first.a} ${first.op} ${first.b} = ${first.c}` : '' };
    if (checkAgrees(step, check)) return { ok: true as const, events: [] };
    const tried = attempts.get(start) ?? 0;
    if (!canAct || tried >= v.maxResamples) return { ok: false as const, events: [{ kind: 'mark' as const, at: start, measurement: { ...m, attempts: tried }, note: 'check disagrees with the step (no resample left): marked' }] };
    return { ok: null, events: resample(s, start, s.text(start), m, tried) };
  };

  /** Steps (start:attempt) already asked for a check at the end of thinking: once each. */
  const asked = new Set<string>();
  const label = (c: Computation) => `${c.a} ${c.op} ${c.b} = ${c.c}`;
  /** The step line of a step's text, its own check line, and whether the model corrected itself. */
  const read = (text: string) => {
    const lines = text.split('\n');
    const at = lines.findIndex((l) => parseStepLine(l) !== null);
    const step = at >= 0 ? parseStepLine(lines[at]) : null;
    const own = step ? lines.slice(at + 1).map((l) => parseCheckLine(l)).find((c) => c !== null) ?? null : null;
    return { step, own, corrected: lines.some((l) => /^Wait,\s*-?\d/.test(l)) };
  };
  /** Asks for a check after the step [start, end) by inserting the cue (the step is recorded first). */
  const ask = (s: SampleControl, start: number, end: number, step: Computation) => {
    const sep = /\n$/.test(s.text()) ? '' : '\n';
    const ins = s.insert(sep + CHECK_CUE);
    pending = { start, end, step };
    return [{ kind: 'check' as const, at: ins.at, inserted: sep + CHECK_CUE, measurement: { step: label(step) }, note: 'check line asked for after the step' }];
  };

  return {
    maxStepTokens: v.maxStepTokens ?? 0,
    // the last step ends with the thinking: check it before the answer (the step hook cannot act there)
    endOfThinking(s, end) {
      const start = s.stepStart;
      const text = s.text(start, end.at);
      if (pending) {
        const check = parseCheckLine(`${CHECK_CUE}${text.split('\n')[0]}`);
        const p = pending;
        if (!check || !check.computations.length || checkAgrees(p.step, check) || (attempts.get(p.start) ?? 0) >= v.maxResamples) return [];
        pending = null;
        return resample(s, p.start, s.text(p.start, end.at), { step: label(p.step), check: label(check.computations[0]) }, attempts.get(p.start) ?? 0);
      }
      const r = read(text);
      if (!r.step) return [];
      if (r.own) {
        if (r.corrected || checkAgrees(r.step, r.own) || (attempts.get(start) ?? 0) >= v.maxResamples) return [];
        return resample(s, start, text, { step: label(r.step), check: r.own.computations[0] ? label(r.own.computations[0]) : '' }, attempts.get(start) ?? 0);
      }
      const key = `${start}:${attempts.get(start) ?? 0}`;
      if (asked.has(key)) return [];
      asked.add(key);
      s.rewind(end.at); // the end marker goes; the step is closed by the insertion
      return ask(s, start, end.at, r.step);
    },
    step(s, { start, end, confidence, canAct }) {
      const text = s.text(start, end);
      if (pending) {
        // the model's continuation of the inserted cue: decide the pending step by it
        const p = pending;
        pending = null;
        const check = parseCheckLine(`${CHECK_CUE}${text.split('\n')[0]}`);
        if (!check || check.computations.length === 0) {
          if (!canAct) { s.pushStep(start, end, confidence, 0, 'unchecked'); s.stepStart = end; return []; }
          // not a check this student can write: drop it and go on from the step
          s.rewind(p.end);
          s.stepStart = p.end;
          return [{ kind: 'check', at: p.end, discarded: `${CHECK_CUE}${text}`, measurement: { step: label(p.step) }, note: 'inserted check did not parse: removed' }];
        }
        const d = decide(s, p.start, p.step, check, canAct);
        if (d.ok === null) return d.events;
        s.pushStep(start, end, confidence, attempts.get(p.start) ?? 0, d.ok ? 'ok' : 'low');
        s.stepStart = end;
        return d.events;
      }
      const { step, own, corrected } = read(text);
      if (!step) { s.pushStep(start, end, confidence, 0, 'unchecked'); s.stepStart = end; return []; }
      if (own) {
        // the model caught and corrected the slip itself ("Wait, 45 + 10 = 55, not 57."): keep it
        if (!own.agrees && corrected) {
          s.pushStep(start, end, confidence, attempts.get(start) ?? 0, 'low');
          s.stepStart = end;
          return [{ kind: 'mark', at: start, measurement: { step: `${step.a} ${step.op} ${step.b} = ${step.c}` }, note: 'the check disagreed and the model corrected the step itself: kept' }];
        }
        const d = decide(s, start, step, own, canAct);
        if (d.ok === null) return d.events;
        s.pushStep(start, end, confidence, attempts.get(start) ?? 0, d.ok ? 'ok' : 'low');
        s.stepStart = end;
        return d.events;
      }
      if (!canAct) { s.pushStep(start, end, confidence, 0, 'unchecked'); s.stepStart = end; return []; }
      // no check of its own: ask for one
      s.rewind(end);
      s.pushStep(start, end, confidence, attempts.get(start) ?? 0, 'unchecked');
      s.stepStart = end;
      return ask(s, start, end, step);
    },
  };
}
