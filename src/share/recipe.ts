// The recipe of a guided run: everything needed to recompute its timeline, and nothing private.
// It is what a share link carries (src/share/codec.ts) and what a run file embeds.
// validateRecipe() is strict: unknown keys, wrong types, out-of-range numbers, over-long strings,
// local paths, blob:/file: URLs and key-like or personal strings are refused with a message that
// names the field.
import type { BudgetForcing, GuideSampling, Interventions, SelfConsistency, StepVerification, StrategyInjection } from '../domain/guide.ts';
import type { AdapterRef, ProblemRef, Recipe } from '../domain/recipe.ts';

export const RECIPE_VERSION = 1;

export class RecipeError extends Error {
  constructor(readonly field: string, detail: string) {
    // Bounded: a field path or detail built from hostile data never makes a huge message.
    super(`${field.length > 120 ? `${field.slice(0, 119)}…` : field}: ${detail.length > 200 ? `${detail.slice(0, 199)}…` : detail}`);
    this.name = 'RecipeError';
  }
}

export const LIMITS = {
  problem: 6000, reference: 500, plan: 2000, phrase: 120, marker: 40, markers: 8, id: 120,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(o: Obj, field: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new RecipeError(`${field}.${k}`, 'is not a recipe field');
}

function obj(v: unknown, field: string, keys: readonly string[]): Obj {
  if (!isObj(v)) throw new RecipeError(field, 'must be an object');
  only(v, field, keys);
  return v;
}

function num(v: unknown, field: string, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RecipeError(field, 'must be a number');
  if (integer && !Number.isInteger(v)) throw new RecipeError(field, 'must be an integer');
  if (v < min || v > max) throw new RecipeError(field, `must be between ${min} and ${max}`);
  return v;
}

function str(v: unknown, field: string, max: number, allowEmpty = true): string {
  if (typeof v !== 'string') throw new RecipeError(field, 'must be text');
  if (v.length > max) throw new RecipeError(field, `is longer than ${max} characters`);
  if (!allowEmpty && v.trim() === '') throw new RecipeError(field, 'must not be empty');
  checkPrivate(v, field);
  return v;
}

const PRIVATE_PATTERNS: [RegExp, string][] = [
  [/\b(?:blob|file|filesystem):/i, 'a local URL (blob:/file:)'],
  [/(?:^|[\s"'(=])(?:[A-Za-z]:\\|\\\\[\w.-]+\\)/, 'a local file path'],
  [/(?:^|[\s"'(=])(?:~\/|\/(?:home|Users|root|mnt|private|var\/folders|tmp)\/)/, 'a local file path'],
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}/, 'something that looks like an API key'],
  [/\b(?:hf|ghp|gho|ghs|github_pat|glpat|xox[abprs])[_-][A-Za-z0-9_-]{16,}/, 'something that looks like an access token'],
  [/\bAKIA[0-9A-Z]{16}\b/, 'something that looks like a cloud access key'],
  [/\bAIza[0-9A-Za-z_-]{30,}/, 'something that looks like an API key'],
  [/\bBearer\s+[A-Za-z0-9._~+/-]{12,}/i, 'an authorization header'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/[\w.+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]*[A-Za-z]{2,}/, 'an e-mail address'],
];

/** Throws if `s` holds a local path, a blob:/file: URL, an API key, a token or an e-mail address. */
export function checkPrivate(s: string, field: string): void {
  for (const [re, what] of PRIVATE_PATTERNS) {
    if (re.test(s)) throw new RecipeError(field, `contains ${what}; share links never carry keys, local paths or personal data`);
  }
  // Generic secret: a long unbroken run of letters and digits (both), as keys are.
  for (const m of s.matchAll(/[A-Za-z0-9_+/=-]{32,}/g)) {
    if (/[A-Za-z]/.test(m[0]) && /\d/.test(m[0])) {
      throw new RecipeError(field, 'contains a long key-like string; share links never carry keys');
    }
  }
}

// Hub ids ("owner/name") and bundled models ("bundled:tiny"); never URLs or paths.
const MODEL_ID = /^(?:bundled:)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}(?:\/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$/;

function modelId(v: unknown, field: string): string {
  if (typeof v !== 'string' || !MODEL_ID.test(v) || v.includes('..')) {
    throw new RecipeError(field, 'must be a hub id like "owner/name" or a bundled model id like "bundled:tiny" (no paths or URLs)');
  }
  return v;
}

function sampling(v: unknown): GuideSampling {
  const o = obj(v, 'sampling', ['temperature', 'topP', 'topK', 'maxNewTokens']);
  return {
    temperature: num(o.temperature, 'sampling.temperature', 0, 5),
    topP: num(o.topP, 'sampling.topP', 0.01, 1),
    topK: num(o.topK, 'sampling.topK', 0, 20, true),
    maxNewTokens: num(o.maxNewTokens, 'sampling.maxNewTokens', 1, 8192, true),
  };
}

function budget(v: unknown): BudgetForcing {
  const f = 'interventions.budget';
  const o = obj(v, f, ['minThinking', 'maxThinking', 'extension', 'answerPhrase', 'endMarkers', 'maxAnswerTokens', 'waits', 'cue']);
  if (!Array.isArray(o.endMarkers)) throw new RecipeError(`${f}.endMarkers`, 'must be a list');
  if (o.endMarkers.length > LIMITS.markers) throw new RecipeError(`${f}.endMarkers`, `holds more than ${LIMITS.markers} markers`);
  const b: BudgetForcing = {
    minThinking: num(o.minThinking, `${f}.minThinking`, 0, 8192, true),
    maxThinking: num(o.maxThinking, `${f}.maxThinking`, 0, 8192, true),
    extension: str(o.extension, `${f}.extension`, LIMITS.phrase, false),
    answerPhrase: str(o.answerPhrase, `${f}.answerPhrase`, LIMITS.phrase, false),
    endMarkers: o.endMarkers.map((m, i) => str(m, `${f}.endMarkers[${i}]`, LIMITS.marker, false)),
    maxAnswerTokens: num(o.maxAnswerTokens, `${f}.maxAnswerTokens`, 1, 1024, true),
  };
  if (b.maxThinking > 0 && b.minThinking > b.maxThinking) throw new RecipeError(`${f}.minThinking`, 'must not exceed maxThinking');
  if (o.waits !== undefined) b.waits = num(o.waits, `${f}.waits`, 0, 64, true);
  if (o.cue !== undefined) b.cue = str(o.cue, `${f}.cue`, LIMITS.phrase);
  return b;
}

function strategy(v: unknown): StrategyInjection {
  const f = 'interventions.strategy';
  const o = obj(v, f, ['source', 'traceId', 'plan']);
  if (o.source !== 'typed' && o.source !== 'reason1k') throw new RecipeError(`${f}.source`, 'must be "typed" or "reason1k"');
  const s: StrategyInjection = { source: o.source, plan: str(o.plan, `${f}.plan`, LIMITS.plan, false) };
  if (o.traceId !== undefined) s.traceId = str(o.traceId, `${f}.traceId`, LIMITS.id);
  return s;
}

function verify(v: unknown): StepVerification {
  const f = 'interventions.verify';
  const o = obj(v, f, ['threshold', 'action', 'maxResamples', 'checkPhrase', 'maxStepTokens', 'resampleTemperature', 'by']);
  if (o.action !== 'resample' && o.action !== 'check' && o.action !== 'mark') throw new RecipeError(`${f}.action`, 'must be "resample", "check" or "mark"');
  const out: StepVerification = {
    threshold: num(o.threshold, `${f}.threshold`, 0, 1),
    action: o.action,
    maxResamples: num(o.maxResamples, `${f}.maxResamples`, 0, 8, true),
    checkPhrase: str(o.checkPhrase, `${f}.checkPhrase`, LIMITS.phrase),
  };
  if (o.maxStepTokens !== undefined) out.maxStepTokens = num(o.maxStepTokens, `${f}.maxStepTokens`, 0, 4096, true);
  if (o.resampleTemperature !== undefined) out.resampleTemperature = num(o.resampleTemperature, `${f}.resampleTemperature`, 0, 2);
  if (o.by !== undefined) {
    if (o.by !== 'confidence' && o.by !== 'check') throw new RecipeError(`${f}.by`, 'must be "confidence" or "check"');
    out.by = o.by;
  }
  return out;
}

function consistency(v: unknown): SelfConsistency {
  const o = obj(v, 'interventions.consistency', ['n']);
  return { n: num(o.n, 'interventions.consistency.n', 1, 32, true) };
}

function problem(v: unknown): ProblemRef {
  const o = obj(v, 'problem', ['kind', 'text', 'reference', 'set', 'id']);
  if (o.kind === 'text') {
    only(o, 'problem', ['kind', 'text', 'reference']);
    const p: ProblemRef = { kind: 'text', text: str(o.text, 'problem.text', LIMITS.problem, false) };
    if (o.reference !== undefined) p.reference = str(o.reference, 'problem.reference', LIMITS.reference);
    return p;
  }
  if (o.kind === 'bench') {
    only(o, 'problem', ['kind', 'set', 'id']);
    const set = str(o.set, 'problem.set', 40, false);
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(set)) throw new RecipeError('problem.set', 'must be a bundled evaluation set id like "math500"');
    return { kind: 'bench', set, id: str(o.id, 'problem.id', LIMITS.id, false) };
  }
  throw new RecipeError('problem.kind', 'must be "text" or "bench"');
}

function adapter(v: unknown): AdapterRef {
  const o = obj(v, 'adapter', ['kind', 'id', 'sha256']);
  if (o.kind === 'hub') { only(o, 'adapter', ['kind', 'id']); return { kind: 'hub', id: modelId(o.id, 'adapter.id') }; }
  if (o.kind === 'hash') {
    only(o, 'adapter', ['kind', 'sha256']);
    if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) throw new RecipeError('adapter.sha256', 'must be 64 lowercase hex digits');
    return { kind: 'hash', sha256: o.sha256 };
  }
  throw new RecipeError('adapter.kind', 'must be "hub" or "hash"');
}

/** JSON of an untrusted value, at most 40 characters (deep values never stringified whole). */
function shortJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return (JSON.stringify(v) ?? String(v)).slice(0, 40);
  return Array.isArray(v) ? 'a list' : 'an object';
}

/** A fresh, validated Recipe built from untrusted data (keys in a fixed order). Throws RecipeError. */
/** A recipe to run on this page: every field checked as for a link, except that the model may be one
 *  loaded from picked files or a URL (its id is not a hub id). Such a run has no share link (encoding
 *  it fails with the model field's message, shown beside the link). */
export function validateRunRecipe(v: unknown): Recipe {
  const model = (v as { model?: unknown } | null)?.model;
  if (typeof model === 'string' && model.length > 0 && !MODEL_ID.test(model)) {
    return { ...validateRecipe({ ...(v as object), model: 'bundled:tiny' }), model };
  }
  return validateRecipe(v);
}

export function validateRecipe(v: unknown): Recipe {
  const o = obj(v, 'recipe', ['v', 'model', 'adapter', 'problem', 'seed', 'sampling', 'interventions', 'thinking', 'compare', 'compareWith']);
  if (o.v !== RECIPE_VERSION) throw new RecipeError('v', `version ${shortJson(o.v)} is not supported (this app reads version ${RECIPE_VERSION})`);
  const r: Recipe = {
    v: 1,
    model: modelId(o.model, 'model'),
    problem: problem(o.problem),
    seed: num(o.seed, 'seed', 0, 0xffffffff, true),
    sampling: sampling(o.sampling),
    interventions: {},
  };
  if (o.adapter !== undefined) r.adapter = adapter(o.adapter);
  const iv = obj(o.interventions, 'interventions', ['budget', 'strategy', 'verify', 'consistency']);
  if (iv.budget !== undefined) r.interventions.budget = budget(iv.budget);
  if (iv.strategy !== undefined) r.interventions.strategy = strategy(iv.strategy);
  if (iv.verify !== undefined) r.interventions.verify = verify(iv.verify);
  if (iv.consistency !== undefined) r.interventions.consistency = consistency(iv.consistency);
  if (o.thinking !== undefined) {
    if (typeof o.thinking !== 'boolean') throw new RecipeError('thinking', 'must be true or false');
    r.thinking = o.thinking;
  }
  if (o.compare !== undefined) {
    if (typeof o.compare !== 'boolean') throw new RecipeError('compare', 'must be true or false');
    r.compare = o.compare;
  }
  if (o.compareWith !== undefined && o.compareWith !== 'interventions') {
    if (o.compareWith !== 'adapter') throw new RecipeError('compareWith', 'must be "interventions" or "adapter"');
    if (!r.adapter) throw new RecipeError('compareWith', '"adapter" needs an adapter in the recipe');
    r.compareWith = 'adapter';
  }
  return r;
}

/** The same recipe with no interventions (the "without" side of a comparison). */
export function withoutInterventions(r: Recipe): Recipe {
  return { ...r, interventions: {}, compare: undefined, compareWith: undefined };
}
