// The thinking markers of a reasoning model, derived from its tokenizer and chat template, in one
// place: the guided loop (src/guide/engine.ts), evaluation (src/eval/thinking.ts) and the UI read
// them here.
//   Qwen3           `<think>` / `</think>` are single tokens (151667 / 151668); the template reads
//                   `enable_thinking` (absent = on); off, it prefills `<think>\n\n</think>\n\n`, so the
//                   reply starts after thinking. On, the model writes `<think>` itself.
//   R1-Distill-Qwen the template ends the generation prompt with `<think>\n`: the reply starts inside
//                   thinking and only its `</think>` is generated.
//   SmolLM3         reads `enable_thinking` too. Llama 3.2, Gemma 3: no thinking markers.
// Other families keep the text markers (matched in the generated text, as the tiny world's).

import type { ChatTemplateOptions, ThinkingFormat } from '../generation/types.ts';

export type { ChatTemplateOptions, ThinkingFormat };

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

/** Where a rendered prompt leaves the reply: inside an opened `<think>` (R1-Distill), after a closed
 *  one (Qwen3 with thinking off), or neither (the model opens its thinking itself, or has none). */
export type PromptThinking = 'open' | 'closed' | 'none';

/** Reads the tail of the rendered prompt: a marker counts only at its very end (whitespace after it),
 *  so a `<think>` quoted inside a user message is not taken for the template's. */
export function promptThinking(promptText: string, f: Pick<ThinkingFormat, 'open' | 'close'> = { open: THINK_OPEN, close: THINK_CLOSE }): PromptThinking {
  const t = promptText.trimEnd();
  if (t.endsWith(f.open)) return 'open';
  if (t.endsWith(f.close) && t.lastIndexOf(f.open) >= 0) return 'closed';
  return 'none';
}

/**
 * The format of a tokenizer: `singleId(text)` gives the id when `text` encodes to exactly one token;
 * `render(thinking)` renders a one-message chat with `enable_thinking` = thinking (undefined: not
 * passed), or null without a chat template. The default is read by rendering, not by parsing the
 * template: the setting that renders like "not given" is the template's default.
 */
export function thinkingFormat(
  template: string | null, singleId: (text: string) => number | null, render: (thinking: boolean | undefined) => string | null,
): ThinkingFormat {
  const f: ThinkingFormat = { open: THINK_OPEN, close: THINK_CLOSE, openId: singleId(THINK_OPEN), closeId: singleId(THINK_CLOSE), switchable: false, defaultOn: true };
  if (!template || !template.includes('enable_thinking')) return f;
  const plain = render(undefined);
  const on = render(true);
  const off = render(false);
  if (plain === null || on === null || off === null || on === off) return f;
  return { ...f, switchable: true, defaultOn: plain !== off };
}
