// Command-line grader for your own model outputs.
//   npm run grade -- FILE.jsonl --response FIELD --answer FIELD [--out FILE] [--no-symbolic]
// FIELD may be a dotted path (e.g. 6b_finetuning.solution). A response field holding a list of
// responses is graded element by element and by majority vote. Prints accuracy and the median/p95
// time per item; writes one JSON
// line per input row (verdict + reason) to --out (default FILE.graded.jsonl). Bad rows are
// reported with file:line and field, and do not stop the run.
import { readFileSync, writeFileSync } from 'node:fs';
import { gradeJsonl } from '../src/eval/grade-file.ts';

function usage(msg?: string): never {
  if (msg) console.error(`grade: ${msg}`);
  console.error('usage: npm run grade -- FILE.jsonl --response FIELD --answer FIELD [--out FILE] [--no-symbolic]');
  process.exit(2);
}

const args = process.argv.slice(2);
let file: string | undefined;
let response: string | undefined;
let answer: string | undefined;
let out: string | undefined;
let symbolic = true;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--response') response = args[++i];
  else if (a === '--answer') answer = args[++i];
  else if (a === '--out') out = args[++i];
  else if (a === '--no-symbolic') symbolic = false;
  else if (a === '--help' || a === '-h') usage();
  else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else if (!file) file = a;
  else usage(`unexpected argument ${a}`);
}
if (!file) usage('no input file');
if (!response) usage('--response FIELD is required');
if (!answer) usage('--answer FIELD is required');

let text: string;
try { text = readFileSync(file, 'utf8'); } catch (e) { usage(`cannot read ${file}: ${(e as Error).message}`); }
const outPath = out ?? file.replace(/\.jsonl?$/i, '') + '.graded.jsonl';

const { verdicts, summary } = await gradeJsonl(text, file, response, answer, { symbolic });
for (const v of verdicts) if (!v.ok) console.error(v.error);
writeFileSync(outPath, verdicts.map((v) => JSON.stringify(v)).join('\n') + (verdicts.length ? '\n' : ''));

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
console.log(`rows: ${summary.rows}  graded: ${summary.graded}  errors: ${summary.errors}`);
console.log(`accuracy${summary.k ? ' (pass@1, mean over samples)' : ''}: ${pct(summary.accuracy)}  95% CI [${pct(summary.interval.low)}, ${pct(summary.interval.high)}]`);
if (summary.majority !== undefined) console.log(`maj@${summary.k}: ${pct(summary.majority)}`);
if (summary.msPerItem) console.log(`time per item: median ${summary.msPerItem.median.toFixed(2)} ms  p95 ${summary.msPerItem.p95.toFixed(2)} ms`);
console.log(`verdicts written to ${outPath}`);
process.exit(summary.graded === 0 ? 1 : 0);
