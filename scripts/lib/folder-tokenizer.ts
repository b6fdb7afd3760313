// A model folder's tokenizer in Node without the GPU (build-time corpus and diagnostic scripts; the
// tools that also run the model get it from loadNodeModel).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TextTokenizer } from '../../src/engine/generation/types.ts';
import { loadTokenizer } from '../../src/engine/tokenizer/hf-tokenizer.ts';

/** The tokenizer of a model folder alone (no GPU): tokenizer.json, tokenizer_config.json, config.json's eos ids. */
export async function loadFolderTokenizer(dir: string): Promise<{ tokenizer: TextTokenizer; vocabSize: number }> {
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const config = read('config.json') as { vocab_size: number; eos_token_id?: number | number[] | null };
  const eos = config.eos_token_id ?? [];
  const tokenizer = await loadTokenizer({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json'), source: dir, extraEosIds: Array.isArray(eos) ? eos : [eos] });
  return { tokenizer, vocabSize: config.vocab_size };
}
