// A variant pretraining corpus for the #12 diagnosis: the procedures also in the trace's own line
// format outside chat ("textbook" documents: the problem, then Plan / Step k / Final Answer), chat
// still answered directly; encoded with the committed world tokenizer, so pretraining can continue
// from the committed weights (scripts/world/pretrain.py --init --aligned). Build time only.
// Also writes probe.json: drills and bare problems (as make:tiny-world's) plus the same held-out
// problems as a textbook prompt ("problem\n") and as a chat prompt, so pretrain.py reports whether
// the skill exists in the trace format and whether chat still answers directly.
// --reflect S: that share of the textbook documents is written by the reflective teacher (checks after
// every step, slips caught with "Wait"; src/world/teacher.ts REFLECTIVE_STYLE), so a student
// pretrained on it knows how to check and a curated chat set can elicit checking as it elicits steps.
//   tsx scripts/world/textbook-corpus.ts [--docs 60000] [--textbook 0.3] [--reflect 0] [--seed 17] [--out build/tiny-world-v2] [--model DIR (its tokenizer)]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFolderTokenizer } from '../lib/folder-tokenizer.ts';
import { chatText, pretrainDocs, probeItems } from '../../src/world/corpus.ts';
import { generateProblems } from '../../src/world/generator.ts';
import { worldTestSet } from '../../src/world/split.ts';
import { REFLECTIVE_STYLE, teachWorld, traceText } from '../../src/world/teacher.ts';
import { mulberry32 } from '../../src/lib/rng.ts';

const args = process.argv.slice(2);
const arg = (k: string, d: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const docsN = Number(arg('docs', '60000'));
const share = Number(arg('textbook', '0.3'));
const reflect = Number(arg('reflect', '0'));
const seed = Number(arg('seed', '17'));
const out = arg('out', 'build/tiny-world-v2');
mkdirSync(out, { recursive: true });
const exclude = new Set(worldTestSet().map((p) => p.problem));
const base = pretrainDocs({ seed, docs: Math.round(docsN * (1 - share)), exclude });
const worked = generateProblems({ seed: seed + 3, n: Math.round(docsN * share), idPrefix: 'tb-' }).filter((p) => !exclude.has(p.problem));
// reflective documents: the clean traces of the reflective teacher (its slips caught and corrected included)
const nReflect = Math.round(worked.length * reflect);
const rt = teachWorld(worked.slice(0, nReflect), { seed: seed + 4, flawRate: 0, style: REFLECTIVE_STYLE }).traces;
const textbook = [...rt.map((t) => `${t.problem}\n${t.reasoning}\n`), ...worked.slice(nReflect).map((p) => `${p.problem}\n${traceText(p)}\n`)];
const docs = [...base, ...textbook];
const r = mulberry32(seed + 9);
for (let i = docs.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [docs[i], docs[j]] = [docs[j], docs[i]]; }
const { tokenizer: tok } = await loadFolderTokenizer(arg('model', 'models/tiny-world'));
const ids: number[] = [];
for (const d of docs) { for (const id of tok.encode(d)) ids.push(id); ids.push(0); }
writeFileSync(join(out, 'corpus.u16'), new Uint16Array(ids));
console.log(`${docs.length} documents (${textbook.length} textbook), ${ids.length} tokens -> ${join(out, 'corpus.u16')}`);

// probes: never a test problem, never a pretraining one (their own seed)
const seen = new Set([...exclude, ...worked.map((p) => p.problem)]);
const held = generateProblems({ seed: seed + 5, n: 400, idPrefix: 'tbp-' }).filter((p) => !seen.has(p.problem)).slice(0, 100);
const probes = [
  ...probeItems({ seed: seed + 7, n: 100, exclude }),
  ...held.map((p) => ({ kind: 'textbook', prompt: `${p.problem}\n`, answer: Number(p.answer) })),
  ...held.map((p) => ({ kind: 'chat', prompt: chatText(p.problem, '').replace(/<\|im_end\|>\n$/, ''), answer: Number(p.answer) })),
].map((p) => ({ ...p, ids: tok.encode(p.prompt) }));
writeFileSync(join(out, 'probe.json'), JSON.stringify(probes) + '\n');
console.log(`${probes.length} probes -> ${join(out, 'probe.json')}`);
