// TextTokenizer over transformers.js: a Hugging Face tokenizer.json + tokenizer_config.json (already
// read into objects by the model source) become a PreTrainedTokenizer subclass chosen by
// `tokenizer_class`, with its chat template. Nothing here touches the network: the objects are
// handed in, and transformers.js is told never to fetch.
import type { ChatMessage, TextTokenizer } from '../generation/types.ts';
import { thinkingFormat, type ChatTemplateOptions, type ThinkingFormat } from './thinking.ts';

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

export interface TokenizerFiles {
  /** Parsed tokenizer.json (or its text). */
  tokenizerJson: unknown;
  /** Parsed tokenizer_config.json (or its text); absent: defaults (no chat template). */
  tokenizerConfig?: unknown;
  /** Where the files came from, for messages: a hub id, URL or folder. */
  source: string;
  /** More end-of-sequence ids (config.json / generation_config.json eos_token_id). */
  extraEosIds?: readonly number[];
}

type HfModule = typeof import('@huggingface/transformers');
type HfTokenizer = InstanceType<HfModule['PreTrainedTokenizer']>;

let hfModule: Promise<HfModule> | undefined;
/** transformers.js, imported on first use (it is large) and configured for offline use. */
function transformers(): Promise<HfModule> {
  hfModule ??= import('@huggingface/transformers').then((hf) => {
    hf.env.allowRemoteModels = false;
    hf.env.allowLocalModels = false; // we hand over objects; never let it look for files
    // It points ONNX Runtime's wasm at a CDN on import; offline that fails (ENVIRONMENT.md).
    const onnx = (hf.env.backends as { onnx?: { wasm?: { wasmPaths?: unknown } } }).onnx;
    if (onnx?.wasm) onnx.wasm.wasmPaths = undefined;
    return hf;
  });
  return hfModule;
}

function parseJsonFile(v: unknown, file: string, source: string): Record<string, unknown> {
  let obj = v;
  if (typeof v === 'string') {
    try {
      obj = JSON.parse(v);
    } catch (e) {
      throw new TokenizerError(`${file} in ${source} is not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new TokenizerError(`${file} in ${source} must be a JSON object`);
  return obj as Record<string, unknown>;
}

/** Largest token id + 1 over the model vocab and the added tokens. */
function vocabSizeOf(json: Record<string, unknown>): number {
  let max = -1;
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    for (const id of Object.values(vocab as Record<string, number>)) if (id > max) max = id;
  } else if (Array.isArray(vocab)) max = vocab.length - 1; // Unigram: [[piece, score], ...]
  for (const t of (json.added_tokens as { id: number }[] | undefined) ?? []) if (t.id > max) max = t.id;
  return max + 1;
}

/** A loaded tokenizer. Implements the TextTokenizer contract plus a few helpers for the UI. */
export class HfTextTokenizer implements TextTokenizer {
  readonly eosTokenIds: readonly number[];
  readonly vocabSize: number;
  readonly hasChatTemplate: boolean;
  /** Its thinking markers (ids where they are single tokens) and the template's `enable_thinking` switch. */
  readonly thinking: ThinkingFormat;

  constructor(readonly inner: HfTokenizer, readonly source: string, vocabSize: number, extraEos: readonly number[]) {
    const eos = new Set<number>(extraEos);
    const own = inner.eos_token_id;
    if (typeof own === 'number') eos.add(own);
    this.eosTokenIds = [...eos];
    this.vocabSize = vocabSize;
    this.hasChatTemplate = inner.chat_template != null;
    const template = typeof inner.chat_template === 'string' ? inner.chat_template : null;
    this.thinking = thinkingFormat(template, (text) => {
      const ids = this.encode(text);
      return ids.length === 1 ? ids[0] : null;
    }, (thinking) => {
      try {
        return this.renderChat([{ role: 'user', content: 'x' }], thinking === undefined ? {} : { thinking });
      } catch {
        return null;
      }
    });
  }

  /** Text -> ids, with no special tokens added (a prompt fragment). */
  encode(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: false });
  }

  /** Text -> ids as a whole prompt: with the tokenizer's own BOS/post-processing where it has one. */
  encodePrompt(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: true });
  }

  /** Ids -> text, keeping special tokens visible (what the model produced, exactly). */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return ''; // transformers.js refuses an empty list
    return this.inner.decode(ids as number[], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The chat template rendered as text, ending with the assistant generation prompt; `thinking` is
   *  handed to the template as `enable_thinking` (absent: the template's default). */
  renderChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (!this.hasChatTemplate) {
      throw new TokenizerError(`tokenizer_config.json in ${this.source} has no chat_template: this looks like a base model; use a plain prompt or an -Instruct model`);
    }
    const out = this.inner.apply_chat_template(messages.map((m) => ({ role: m.role, content: m.content })), {
      tokenize: false,
      add_generation_prompt: true,
      ...(options.thinking !== undefined ? { enable_thinking: options.thinking } : {}),
    });
    return out as unknown as string;
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.renderChat(messages, options));
  }

  /** The token's text piece (for showing alternatives), special tokens included. */
  tokenText(id: number): string {
    return this.decode([id]);
  }
}

/** Builds the tokenizer from its files. Errors name the source and the file that is wrong. */
export async function loadTokenizer(files: TokenizerFiles): Promise<HfTextTokenizer> {
  const { source } = files;
  if (files.tokenizerJson === undefined || files.tokenizerJson === null) {
    throw new TokenizerError(`tokenizer.json not found in ${source}`);
  }
  const json = parseJsonFile(files.tokenizerJson, 'tokenizer.json', source);
  const config = files.tokenizerConfig === undefined || files.tokenizerConfig === null
    ? {}
    : parseJsonFile(files.tokenizerConfig, 'tokenizer_config.json', source);
  if (typeof json.model !== 'object' || json.model === null) {
    throw new TokenizerError(`tokenizer.json in ${source}: field "model" is missing; is this a Hugging Face tokenizer.json?`);
  }
  const hf = await transformers();
  const className = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : 'PreTrainedTokenizer';
  const classes = hf as unknown as Record<string, unknown>;
  const candidate = classes[className];
  const Cls = (typeof candidate === 'function' && candidate.prototype instanceof hf.PreTrainedTokenizer ? candidate : hf.PreTrainedTokenizer) as HfModule['PreTrainedTokenizer'];
  let inner: HfTokenizer;
  try {
    inner = new Cls(json, config);
  } catch (e) {
    throw new TokenizerError(`tokenizer.json in ${source} could not be loaded: ${(e as Error).message}`);
  }
  return new HfTextTokenizer(inner, source, vocabSizeOf(json), files.extraEosIds ?? []);
}
