// Symbolic equivalence of two LaTeX expressions through @cortex-js/compute-engine (a maintained
// CAS). Loaded lazily (large module) and time-bound per comparison; every failure path returns
// `undecided` so callers fall back to a mismatch with a clear reason.
import type { ComputeEngine, Expression } from '@cortex-js/compute-engine';

export type SymbolicResult =
  | { status: 'equal'; how: string }
  | { status: 'different'; how: string }
  | { status: 'undecided'; how: string };

let enginePromise: Promise<ComputeEngine> | null = null;

/** The shared engine instance, created on first use. */
export function loadComputeEngine(): Promise<ComputeEngine> {
  enginePromise ??= import('@cortex-js/compute-engine').then((m) => new m.ComputeEngine());
  return enginePromise;
}

const REL_TOL = 1e-4;

function close(a: number, b: number, exactInt: boolean): boolean {
  if (exactInt) return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  return Math.abs(a - b) <= REL_TOL * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) <= 1e-12;
}

function realValue(e: Expression): number | null {
  const n = e.N();
  const re = n.re;
  const im = n.im;
  if (typeof re !== 'number' || !Number.isFinite(re)) return null;
  if (typeof im === 'number' && Math.abs(im) > 1e-12) return null;
  return re;
}

/** Deterministic sample points for free variables (no Math.random: verdicts are reproducible). */
const SAMPLES = [0.7317, 1.4142, -0.5772, 2.2361];

/**
 * Compares `pred` against `ref` (both LaTeX). `refIsInteger`: the reference is an integer, so a
 * numeric match must be exact (PRM800K rule). Time-bound by `timeoutMs` inside the engine.
 */
export async function symbolicEqual(pred: string, ref: string, refIsInteger: boolean, timeoutMs = 1500): Promise<SymbolicResult> {
  let ce: ComputeEngine;
  try {
    ce = await loadComputeEngine();
  } catch (e) {
    return { status: 'undecided', how: `compute engine failed to load: ${String(e)}` };
  }
  const started = Date.now();
  try {
    return ce.withTimeLimit(timeoutMs, () => compare(ce, pred, ref, refIsInteger, started + timeoutMs));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const timedOut = /timeout|cancel/i.test(msg) || Date.now() - started >= timeoutMs;
    return { status: 'undecided', how: timedOut ? `timed out after ${timeoutMs} ms` : `engine error: ${msg}` };
  }
}

function compare(ce: ComputeEngine, pred: string, ref: string, refIsInteger: boolean, deadline: number): SymbolicResult {
  const a = ce.parse(pred);
  const b = ce.parse(ref);
  if (!a.isValid || !b.isValid) return { status: 'undecided', how: `could not parse ${!a.isValid ? 'prediction' : 'reference'}` };
  const opA = a.operator;
  const opB = b.operator;
  const relational = new Set(['Equal', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'NotEqual']);
  if (relational.has(opA) !== relational.has(opB)) return { status: 'different', how: `${opA} vs ${opB}` };
  if (a.isSame(b)) return { status: 'equal', how: 'same canonical form' };
  const va = a.unknowns.length === 0 ? realValue(a) : null;
  const vb = b.unknowns.length === 0 ? realValue(b) : null;
  if (va !== null && vb !== null) {
    return close(va, vb, refIsInteger)
      ? { status: 'equal', how: `values agree (${fmt(va)})` }
      : { status: 'different', how: `values differ (${fmt(va)} vs ${fmt(vb)})` };
  }
  if (Date.now() > deadline) throw new Error('timeout');
  const vars = [...new Set([...a.unknowns, ...b.unknowns])];
  if (vars.length === 0 || vars.length > 4) return { status: 'undecided', how: 'no numeric value to compare' };
  const aVars = [...a.unknowns].sort().join(',');
  const bVars = [...b.unknowns].sort().join(',');
  if (aVars !== bVars) return { status: 'different', how: `different variables (${aVars || 'none'} vs ${bVars || 'none'})` };
  for (let k = 0; k < 3; k++) {
    const sub: Record<string, number> = {};
    vars.forEach((v, i) => { sub[v] = SAMPLES[(i + k) % SAMPLES.length] + k * 0.31; });
    const xa = realValue(a.subs(sub));
    const xb = realValue(b.subs(sub));
    if (xa === null || xb === null) return { status: 'undecided', how: 'expressions do not evaluate at sample points' };
    if (!close(xa, xb, false)) return { status: 'different', how: `differ at ${vars.map((v) => `${v}=${fmt(sub[v])}`).join(', ')}` };
    if (Date.now() > deadline) throw new Error('timeout');
  }
  return { status: 'equal', how: `agree at 3 sample points of ${vars.join(', ')}` };
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6);
}

/**
 * Whether f_a = c * f_b for a constant c != 0 (c > 0 when `sign` is 'positive'): two equations
 * `f = 0` with the same solutions when linear in the scaling, or two inequalities `f > 0` that
 * say the same. Decided at sample points of the shared variables; time-bound like symbolicEqual.
 */
export async function symbolicProportional(fa: string, fb: string, sign: 'any' | 'positive', timeoutMs = 1500): Promise<SymbolicResult> {
  let ce: ComputeEngine;
  try {
    ce = await loadComputeEngine();
  } catch (e) {
    return { status: 'undecided', how: `compute engine failed to load: ${String(e)}` };
  }
  const started = Date.now();
  try {
    return ce.withTimeLimit(timeoutMs, () => proportional(ce, fa, fb, sign, started + timeoutMs));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const timedOut = /timeout|cancel/i.test(msg) || Date.now() - started >= timeoutMs;
    return { status: 'undecided', how: timedOut ? `timed out after ${timeoutMs} ms` : `engine error: ${msg}` };
  }
}

function proportional(ce: ComputeEngine, fa: string, fb: string, sign: 'any' | 'positive', deadline: number): SymbolicResult {
  const a = ce.parse(fa);
  const b = ce.parse(fb);
  if (!a.isValid || !b.isValid) return { status: 'undecided', how: `could not parse ${!a.isValid ? 'prediction' : 'reference'}` };
  const aVars = [...a.unknowns].sort().join(',');
  const bVars = [...b.unknowns].sort().join(',');
  if (aVars !== bVars) return { status: 'different', how: `different variables (${aVars || 'none'} vs ${bVars || 'none'})` };
  const vars = [...a.unknowns];
  if (vars.length === 0 || vars.length > 4) return { status: 'undecided', how: vars.length === 0 ? 'no variable in the relations' : 'too many variables' };
  const ratios: number[] = [];
  for (let k = 0; k < 5 && ratios.length < 3; k++) {
    const sub: Record<string, number> = {};
    vars.forEach((v, i) => { sub[v] = SAMPLES[(i + k) % SAMPLES.length] + k * 0.31; });
    const xa = realValue(a.subs(sub));
    const xb = realValue(b.subs(sub));
    if (Date.now() > deadline) throw new Error('timeout');
    if (xa === null || xb === null) continue;
    const za = Math.abs(xa) < 1e-12;
    const zb = Math.abs(xb) < 1e-12;
    if (za && zb) continue;
    if (za !== zb) return { status: 'different', how: `one side vanishes at ${vars.map((v) => `${v}=${fmt(sub[v])}`).join(', ')}, the other does not` };
    ratios.push(xa / xb);
  }
  if (ratios.length < 2) return { status: 'undecided', how: 'too few sample points evaluate' };
  const c = ratios[0];
  if (!ratios.every((q) => Math.abs(q - c) <= REL_TOL * Math.max(Math.abs(q), Math.abs(c)))) return { status: 'different', how: `not proportional at sample points of ${vars.join(', ')}` };
  if (sign === 'positive' && c < 0) return { status: 'different', how: `proportional with a negative factor (${fmt(c)}): the inequality points the other way` };
  return { status: 'equal', how: `proportional with factor ${fmt(c)} at ${ratios.length} sample points of ${vars.join(', ')}` };
}
