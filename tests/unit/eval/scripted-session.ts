// A scripted DecodeSession + character tokenizer for runner tests: the "model" is a function of
// the prompt text (and of the uniform drawn at prefill, to vary samples). Not used by the app.
import type { ChatMessage, DecodeSession, SampledToken, SamplingOptions, TextTokenizer } from '../../../src/engine/generation/types.ts';

const EOS = 0;
const MARK = '\u0001A:'; // start-of-assistant marker in the char "chat template"

export class CharTokenizer implements TextTokenizer {
  readonly eosTokenIds = [EOS];
  readonly vocabSize = 65536;
  encode(text: string): number[] { return [...text].map((c) => c.charCodeAt(0)); }
  decode(ids: readonly number[]): string { return ids.filter((i) => i !== EOS).map((i) => String.fromCharCode(i)).join(''); }
  applyChatTemplate(messages: readonly ChatMessage[]): number[] {
    return this.encode(messages.map((m) => `\u0001${m.role}:${m.content}`).join('') + MARK);
  }
}

export type Script = (prompt: string, u: number) => string;

export class ScriptedSession implements DecodeSession {
  private ctx: number[] = [];
  private u0 = 0;
  feeds = 0;
  constructor(private readonly script: Script, readonly maxLength = 8192, private readonly tok = new CharTokenizer()) {}
  get length(): number { return this.ctx.length; }
  async feed(ids: readonly number[], opts: SamplingOptions): Promise<SampledToken> {
    this.feeds++;
    const wasEmpty = this.ctx.length === 0;
    this.ctx.push(...ids);
    if (this.ctx.length > this.maxLength) throw new Error('context overflow');
    if (wasEmpty) this.u0 = opts.u;
    const text = this.tok.decode(this.ctx);
    const at = text.lastIndexOf(MARK);
    const prompt = text.slice(0, at);
    const sofar = text.slice(at + MARK.length);
    const target = this.script(prompt, this.u0);
    const id = sofar.length < target.length ? target.charCodeAt(sofar.length) : EOS;
    return { id, logprob: 0, entropy: 0, alternatives: [] };
  }
  truncate(length: number): void { this.ctx.length = Math.min(this.ctx.length, length); }
  dispose(): void { this.ctx = []; }
}
