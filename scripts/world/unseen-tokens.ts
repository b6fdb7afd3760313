// Which token ids of the training replies never occur in pretraining (a diagnostic of #12: their
// embedding rows are untrained, and a LoRA on linear layers cannot make the tied head emit them).
//   npm run experiment:tiny -- --test 200 --pool 6000 --select 1000 --dump-sft build/tiny-world/sft.json
//   npx tsx scripts/world/unseen-tokens.ts [SFT.json]
import { readFileSync } from 'node:fs';
import { loadFolderTokenizer } from '../lib/folder-tokenizer.ts';
import { pretrainDocs } from '../../src/world/corpus.ts';
const { tokenizer: t, vocabSize } = await loadFolderTokenizer('models/tiny-world');
const seen = new Set<number>([0]); // make:tiny-world puts <|endoftext|> (id 0) between documents
for (const d of pretrainDocs({ seed: 7, docs: 30000, exclude: new Set() })) for (const id of t.encode(d)) seen.add(id);
const sft = JSON.parse(readFileSync(process.argv[2] ?? 'build/tiny-world/sft.json', 'utf8'));
const reply = new Set<number>(); let tot = 0, unseenTot = 0;
for (const s of sft.sets.reason1k) s.targets.forEach((id: number, i: number) => { if (s.weights[i] > 0 && id >= 0) { reply.add(id); tot++; if (!seen.has(id)) unseenTot++; } });
const un = [...reply].filter((id) => !seen.has(id));
console.log(`vocab ${vocabSize}; ids seen in 30,000 pretraining docs: ${seen.size}; reply ids ${reply.size}, of which never in pretraining: ${un.length}; reply target tokens ${tot}, unseen ${unseenTot} (${(100 * unseenTot / tot).toFixed(1)}%)`);
console.log(un.slice(0, 60).map((id) => JSON.stringify(t.decode([id]))).join(' '));
