// The Playground's settings form <-> a Recipe (what runs, what a share link carries).
import type { Recipe } from '../../domain/recipe.ts';
import { INTERVENTION_DEFAULTS } from '../../guide/interventions/defaults.ts';

export interface FormState {
  problemMode: 'typed' | 'bench';
  typedText: string;
  typedReference: string;
  benchSet: string;
  benchKey: string;
  seed: number;
  temperature: number;
  topP: number;
  topK: number;
  maxNewTokens: number;
  /** The chat template's enable_thinking (shown where the model's template reads it); null = the template's default. */
  thinking: boolean | null;
  budgetOn: boolean;
  minThinking: number;
  maxThinking: number;
  extension: string;
  answerPhrase: string;
  /** One marker per line. */
  endMarkers: string;
  maxAnswerTokens: number;
  /** forced "Wait"s (0 = off) and the cue after each */
  waits: number;
  cue: string;
  strategyOn: boolean;
  strategySource: 'typed' | 'reason1k';
  plan: string;
  traceId: string;
  verifyOn: boolean;
  threshold: number;
  action: 'resample' | 'check' | 'mark';
  maxResamples: number;
  checkPhrase: string;
  maxStepTokens: number;
  /** what decides a step: its confidence, or a check line */
  verifyBy: 'confidence' | 'check';
  consistencyOn: boolean;
  n: number;
  compare: boolean;
  /** Content hash of the adapter to merge ('' = base model). */
  adapterSha: string;
  compareWith: 'interventions' | 'adapter';
}

export function defaultForm(): FormState {
  const b = INTERVENTION_DEFAULTS.budget;
  const v = INTERVENTION_DEFAULTS.verify;
  return {
    // a tiny-world problem (held-out item tw-test-9001:36): the bundled student's world
    problemMode: 'typed', typedText: 'Compute 62 - 13 - 20.', typedReference: '29', benchSet: 'tiny_world', benchKey: '',
    seed: 1, temperature: 0.8, topP: 0.95, topK: 5, maxNewTokens: 96, thinking: null,
    budgetOn: true, minThinking: b.minThinking, maxThinking: b.maxThinking, extension: b.extension, answerPhrase: b.answerPhrase, endMarkers: b.endMarkers.join('\n'), maxAnswerTokens: b.maxAnswerTokens, waits: 0, cue: '',
    strategyOn: false, strategySource: 'typed', plan: '', traceId: '',
    verifyOn: false, threshold: v.threshold, action: v.action, maxResamples: v.maxResamples, checkPhrase: v.checkPhrase, maxStepTokens: v.maxStepTokens, verifyBy: 'confidence',
    consistencyOn: false, n: INTERVENTION_DEFAULTS.consistency.n,
    compare: true,
    adapterSha: '', compareWith: 'interventions',
  };
}

export function recipeFromForm(f: FormState, model: string): Recipe {
  const r: Recipe = {
    v: 1,
    model,
    problem: f.problemMode === 'bench'
      ? { kind: 'bench', set: f.benchSet, id: f.benchKey }
      : { kind: 'text', text: f.typedText, ...(f.typedReference.trim() ? { reference: f.typedReference.trim() } : {}) },
    seed: Math.trunc(f.seed),
    sampling: { temperature: f.temperature, topP: f.topP, topK: Math.trunc(f.topK), maxNewTokens: Math.trunc(f.maxNewTokens) },
    interventions: {},
  };
  if (f.thinking !== null) r.thinking = f.thinking;
  if (f.budgetOn) {
    r.interventions.budget = {
      minThinking: Math.trunc(f.minThinking), maxThinking: Math.trunc(f.maxThinking), extension: f.extension, answerPhrase: f.answerPhrase,
      endMarkers: f.endMarkers.split('\n').map((s) => s.trim()).filter(Boolean), maxAnswerTokens: Math.trunc(f.maxAnswerTokens),
      ...(f.waits > 0 ? { waits: Math.trunc(f.waits) } : {}), ...(f.cue ? { cue: f.cue } : {}),
    };
  }
  if (f.strategyOn && f.plan.trim()) {
    r.interventions.strategy = { source: f.strategySource, plan: f.plan.trim(), ...(f.strategySource === 'reason1k' && f.traceId ? { traceId: f.traceId } : {}) };
  }
  if (f.verifyOn) {
    r.interventions.verify = { threshold: f.threshold, action: f.action, maxResamples: Math.trunc(f.maxResamples), checkPhrase: f.checkPhrase, maxStepTokens: Math.trunc(f.maxStepTokens), ...(f.verifyBy === 'check' ? { by: 'check' as const } : {}) };
  }
  if (f.consistencyOn) r.interventions.consistency = { n: Math.trunc(f.n) };
  if (f.compare) r.compare = true;
  if (f.adapterSha) r.adapter = { kind: 'hash', sha256: f.adapterSha };
  if (f.compare && f.adapterSha && f.compareWith === 'adapter') r.compareWith = 'adapter';
  return r;
}

export function formFromRecipe(r: Recipe, base: FormState = defaultForm()): FormState {
  const f: FormState = { ...base };
  if (r.problem.kind === 'text') {
    f.problemMode = 'typed';
    f.typedText = r.problem.text;
    f.typedReference = r.problem.reference ?? '';
  } else {
    f.problemMode = 'bench';
    f.benchSet = r.problem.set;
    f.benchKey = r.problem.id;
  }
  f.seed = r.seed;
  Object.assign(f, r.sampling);
  f.thinking = r.thinking ?? null;
  const b = r.interventions.budget;
  f.budgetOn = !!b;
  if (b) Object.assign(f, { minThinking: b.minThinking, maxThinking: b.maxThinking, extension: b.extension, answerPhrase: b.answerPhrase, endMarkers: b.endMarkers.join('\n'), maxAnswerTokens: b.maxAnswerTokens, waits: b.waits ?? 0, cue: b.cue ?? '' });
  const s = r.interventions.strategy;
  f.strategyOn = !!s;
  if (s) Object.assign(f, { strategySource: s.source, plan: s.plan, traceId: s.traceId ?? '' });
  const v = r.interventions.verify;
  f.verifyOn = !!v;
  if (v) Object.assign(f, { threshold: v.threshold, action: v.action, maxResamples: v.maxResamples, checkPhrase: v.checkPhrase, maxStepTokens: v.maxStepTokens ?? 0, verifyBy: v.by ?? 'confidence' });
  f.consistencyOn = !!r.interventions.consistency;
  if (r.interventions.consistency) f.n = r.interventions.consistency.n;
  f.compare = !!r.compare;
  f.adapterSha = r.adapter?.kind === 'hash' ? r.adapter.sha256 : '';
  f.compareWith = r.compareWith ?? 'interventions';
  return f;
}

/** Background colour for a token: green (certain) to red (uncertain); null measurement -> none. */
export function tokenColour(mode: 'entropy' | 'logprob', logprob: number | null, entropy: number | null, vocabSize: number): string | null {
  let x: number;
  if (mode === 'entropy') {
    if (entropy === null) return null;
    x = Math.min(1, entropy / Math.log(Math.max(2, vocabSize)));
  } else {
    if (logprob === null) return null;
    x = 1 - Math.exp(logprob);
  }
  const hue = Math.round(120 * (1 - x));
  return `hsl(${hue} 75% 82%)`;
}
