// npm run test:reliability [-- --full] [playwright args]: runs the reliability campaign
// (playwright.reliability.config.ts, tests/reliability/) at small counts, or at full counts with
// --full (>= 100 kill cycles, 10,000 fuzzed lines, 1,000 links), then prints every spec's figures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const full = args.includes('--full');
const rest = args.filter((a) => a !== '--full');
const dir = mkdtempSync(join(tmpdir(), 'rb-reliability-'));
const figures = join(dir, 'figures.jsonl');
const env = { ...process.env, RB_RELIABILITY: full ? 'full' : 'small', RB_FIGURES: figures };
const t0 = Date.now();
console.log(`reliability campaign: ${full ? 'full' : 'small'} counts`);
const r = spawnSync('node', ['scripts/gpu-env.mjs', 'npx', 'playwright', 'test', '-c', 'playwright.reliability.config.ts', ...rest], { stdio: 'inherit', env });
console.log(`\nreliability figures (${full ? 'full' : 'small'} counts, ${((Date.now() - t0) / 1000).toFixed(0)} s):`);
if (existsSync(figures)) {
  for (const line of readFileSync(figures, 'utf8').split('\n').filter(Boolean)) {
    const f = JSON.parse(line);
    console.log(`  ${f.name}: ${Object.entries(f.figures).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
} else console.log('  (none recorded)');
rmSync(dir, { recursive: true, force: true });
process.exit(r.status ?? 1);
