// Fresh tiny-world problems with their answers, from the generator (src/world/generator.ts):
//   npm run world -- --seed S --n N [--domains a,b,...] [--levels 1,2,...] --out FILE.jsonl
// One JSON line per problem: id, problem, answer, domain, level, subject (= domain), and the
// solution's steps, so anyone can test on problems no one has seen (`npm run eval -- --bench FILE`).
import { writeFileSync } from 'node:fs';
import { WORLD_DOMAINS, type WorldDomain, generateProblems, opLine } from '../src/world/generator.ts';

const USAGE = 'usage: npm run world -- --seed S --n N [--domains a,b,...] [--levels 1,2,...] --out FILE.jsonl';
function fail(msg: string): never { console.error(`world: ${msg}\n${USAGE}\ndomains: ${WORLD_DOMAINS.join(', ')}; levels: 1..5`); process.exit(2); }
const argv = process.argv.slice(2);
const args: Record<string, string> = {};
for (let i = 0; i < argv.length; i++) {
  if (!argv[i].startsWith('--') || i + 1 >= argv.length) fail(`bad argument "${argv[i]}"`);
  args[argv[i].slice(2)] = argv[++i];
}
for (const k of Object.keys(args)) if (!['seed', 'n', 'domains', 'levels', 'out'].includes(k)) fail(`unknown option --${k}`);
for (const k of ['seed', 'n', 'out']) if (args[k] === undefined) fail(`--${k} is required`);
const seed = Number(args.seed); const n = Number(args.n);
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got "${args.seed}"`);
if (!Number.isInteger(n) || n < 1) fail(`--n must be a positive integer, got "${args.n}"`);
const domains = args.domains ? (args.domains.split(',').map((d) => d.trim()) as WorldDomain[]) : undefined;
const levels = args.levels ? args.levels.split(',').map((l) => Number(l.trim())) : undefined;
let problems;
try { problems = generateProblems({ seed, n, domains, levels, idPrefix: 'world-' }); } catch (e) { fail((e as Error).message); }
const rows = problems.map((p) => JSON.stringify({ id: p.id, problem: p.problem, answer: p.answer, domain: p.domain, subject: p.domain, level: `Level ${p.level}`, steps: p.ops.map(opLine) }));
writeFileSync(args.out, rows.join('\n') + '\n');
console.log(`wrote ${problems.length} problems to ${args.out} (seed ${seed}; domains ${(domains ?? WORLD_DOMAINS).join(', ')}; levels ${(levels ?? [1, 2, 3, 4, 5]).join(', ')})`);
