// Makes the bundled tiny model's tokenizer: a byte-level BPE in Hugging Face tokenizer.json format
// (the same pipeline as Qwen2: split regex, ByteLevel, BPE) with 512 tokens:
//   ids 0..4   special: <|endoftext|> <|im_start|> <|im_end|> <think> </think>
//   ids 5..260 the 256 bytes (GPT-2 byte-to-unicode alphabet, in byte order)
//   ids 261..  merges learned from GSM8K train questions and answers (a seeded sample)
// plus tokenizer_config.json with a ChatML chat template and eos <|im_end|>.
// Deterministic: the same data file and seed give byte-identical output.
//
//   npm run make:tiny-tokenizer -- [--data public/data/gsm8k_train.jsonl] [--out models/tiny] [--seed 0] [--sample 3000]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from '../src/lib/rng.ts';

export const VOCAB_SIZE = 512;
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<think>', '</think>'] as const;
/** Qwen2's split regex, as JavaScript (no inline (?i:) group in Node 20). */
const QWEN_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const JS_SPLIT = /'(?:[sStTmMdD]|[rR][eE]|[vV][eE]|[lL][lL])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export const CHAT_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** GPT-2's reversible byte -> printable unicode character map. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}


/** Learns `count` merges over word frequencies; ties go to the lexicographically smallest pair. */
function learnMerges(words: Map<string, number>, count: number, maxNewTokens: number, known: Set<string>): [string, string][] {
  const seqs = [...words.entries()].map(([w, n]) => ({ syms: [...w], n }));
  const merges: [string, string][] = [];
  let added = 0;
  while (merges.length < count && added < maxNewTokens) {
    const pairs = new Map<string, number>();
    for (const { syms, n } of seqs) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = `${syms[i]}\u0000${syms[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + n);
      }
    }
    let best: string | undefined;
    let bestN = 0;
    for (const [k, n] of pairs) if (n > bestN || (n === bestN && best !== undefined && k < best)) [best, bestN] = [k, n];
    if (best === undefined || bestN < 2) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    const ab = a + b;
    if (!known.has(ab)) {
      known.add(ab);
      added++;
    }
    for (const s of seqs) {
      const out: string[] = [];
      for (let i = 0; i < s.syms.length; i++) {
        if (i + 1 < s.syms.length && s.syms[i] === a && s.syms[i + 1] === b) {
          out.push(ab);
          i++;
        } else out.push(s.syms[i]);
      }
      s.syms = out;
    }
  }
  return merges;
}

export function makeTinyTokenizer(texts: string[], vocabSize = VOCAB_SIZE): { tokenizer: object; config: object } {
  const byteChars = bytesToUnicode();
  const enc = new TextEncoder();
  const words = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(JS_SPLIT)) {
      const w = Array.from(enc.encode(m[0]), (b) => byteChars[b]).join('');
      words.set(w, (words.get(w) ?? 0) + 1);
    }
  }
  const vocab: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((t, i) => (vocab[t] = i));
  byteChars.forEach((c, b) => (vocab[c] = SPECIAL_TOKENS.length + b));
  const known = new Set(Object.keys(vocab));
  const room = vocabSize - Object.keys(vocab).length;
  const merges = learnMerges(words, room * 2, room, known);
  let next = Object.keys(vocab).length;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  if (next > vocabSize) throw new Error(`vocabulary overflow: ${next}`);

  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: id < 3,
    })),
    normalizer: null, // no NFC: decode(encode(s)) === s for every string
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN_SPLIT }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
  const added_tokens_decoder: Record<string, object> = {};
  SPECIAL_TOKENS.forEach((content, id) => {
    added_tokens_decoder[String(id)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: id < 3 };
  });
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder,
    bos_token: null,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 2048,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  return { tokenizer, config };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The two files as written to disk, from GSM8K JSONL text (seeded sample of question + answer). */
export function buildTinyTokenizerFiles(jsonl: string, seed = 0, sample = 3000, fileName = 'data'): { tokenizerJson: string; configJson: string; summary: string } {
  const rows = jsonl.split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as { question: string; answer: string };
    } catch {
      throw new Error(`${fileName}:${i + 1}: not valid JSON`);
    }
  });
  // Seeded Fisher-Yates, then the first `sample` rows.
  const rand = mulberry32(seed);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const texts = rows.slice(0, sample).flatMap((r) => [r.question, r.answer]);
  const { tokenizer, config } = makeTinyTokenizer(texts);
  const model = (tokenizer as { model: { vocab: object; merges: unknown[] } }).model;
  return {
    tokenizerJson: JSON.stringify(tokenizer, null, 1) + '\n',
    configJson: JSON.stringify(config, null, 2) + '\n',
    summary: `${Object.keys(model.vocab).length} tokens, ${model.merges.length} merges from ${texts.length} texts, seed ${seed}`,
  };
}

function main(): void {
  const data = arg('data', 'public/data/gsm8k_train.jsonl');
  const out = arg('out', 'models/tiny');
  const files = buildTinyTokenizerFiles(readFileSync(data, 'utf8'), Number(arg('seed', '0')), Number(arg('sample', '3000')), data);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tokenizer.json'), files.tokenizerJson);
  writeFileSync(join(out, 'tokenizer_config.json'), files.configJson);
  console.log(`wrote ${out}/tokenizer.json (${files.summary}) and tokenizer_config.json`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
