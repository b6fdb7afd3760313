// The tiny-world student's pretraining documents (a build-time input of scripts/make-tiny-world.ts).
// Its knowledge is meant to be latent (LIMO / s1 "less is more"): it drills every single operation
// ("a op b = c") and works bare expressions step by step, but in the chat context it has only ever
// answered directly. A small curated set of chat traces then elicits the steps where it needs them.
import { mulberry32 } from '../lib/rng.ts';
import { type OpSym, type WorldProblem, MAX_VALUE, SMALL, applyOp, drillable, generateProblems, opLine } from './generator.ts';
import { directReply } from './teacher.ts';

/** ChatML as the world tokenizer's chat template writes it (tokenizer_config.json). */
export function chatText(user: string, assistant: string): string {
  return `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n${assistant}<|im_end|>\n`;
}

/** A random drillable single operation, the ops weighted toward those the programs use most. */
function drillOp(r: () => number): string {
  for (;;) {
    const u = r();
    const o: OpSym = u < 0.35 ? '+' : u < 0.7 ? '-' : u < 0.9 ? '*' : '/';
    let a: number; let b: number;
    if (o === '*') { a = Math.floor(r() * 13); b = Math.floor(r() * 13); }
    else if (o === '/') { b = 1 + Math.floor(r() * 12); a = b * Math.floor(r() * 13); }
    else if (o === '-' && r() < 0.3) { b = Math.floor(r() * (MAX_VALUE + 1)); a = b + Math.floor(r() * (SMALL + 1)); } // small difference
    else { a = Math.floor(r() * (MAX_VALUE + 1)); b = Math.floor(r() * (SMALL + 1)); if (o === '+' && r() < 0.3) [a, b] = [b, a]; }
    if (drillable(a, o, b)) return `${a} ${o} ${b} = ${applyOp(a, o, b)}`;
  }
}

/** A bare problem worked step by step: the procedure in its home context. */
export function workedBare(p: WorldProblem): string | null {
  if (p.bare === null) return null;
  return `${p.bare}\n${p.ops.map(opLine).join('\n')}\nanswer ${p.answer}\n`;
}

export interface CorpusSpec {
  seed: number;
  docs: number;
  /** problem texts never to use (the held-out test set) */
  exclude: ReadonlySet<string>;
}

/** Pretraining documents: drills, worked bare problems and direct chat answers in about equal shares. */
export function pretrainDocs(spec: CorpusSpec): string[] {
  const r = mulberry32(spec.seed);
  const problems = generateProblems({ seed: spec.seed + 1, n: spec.docs, idPrefix: 'pre-' }).filter((p) => !spec.exclude.has(p.problem));
  const docs: string[] = [];
  let pi = 0;
  for (let i = 0; i < spec.docs && pi < problems.length; i++) {
    const u = r();
    if (u < 0.45) docs.push(`${Array.from({ length: 6 }, () => drillOp(r)).join('\n')}\n`);
    else if (u < 0.75) {
      const w = workedBare(problems[pi++]);
      if (w) docs.push(w); else i--;
    } else {
      const p = problems[pi++];
      docs.push(chatText(p.problem, directReply(p)));
    }
  }
  return docs;
}

/** One probe of the student's latent skills: a prompt and the answer its greedy continuation must reach. */
export interface ProbeItem { kind: 'drill' | 'bare'; prompt: string; answer: number }

/** Probes of what pretraining teaches, for
 *  scripts/world/pretrain.py's exact-match report: drills drawn as the corpus draws them (recall of seen
 *  facts: the 12x12 table and small sums repeat) and bare problems from their own seed, never a test
 *  problem. The student can only be elicited to reason with the steps it can do. */
export function probeItems(spec: { seed: number; n: number; exclude: ReadonlySet<string> }): ProbeItem[] {
  const r = mulberry32(spec.seed);
  const out: ProbeItem[] = [];
  for (let i = 0; i < spec.n; i++) {
    const [lhs, c] = drillOp(r).split(' = ');
    out.push({ kind: 'drill', prompt: `${lhs} =`, answer: Number(c) });
  }
  for (const p of generateProblems({ seed: spec.seed + 1, n: spec.n * 2, idPrefix: 'probe-' })) {
    if (out.length >= 2 * spec.n) break;
    if (p.bare === null || spec.exclude.has(p.problem) || !Number.isFinite(Number(p.answer))) continue;
    out.push({ kind: 'bare', prompt: `${p.bare}\n`, answer: Number(p.answer) });
  }
  return out;
}
