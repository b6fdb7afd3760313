// Thinking and answer apart: a reasoning model writes "<think> ... </think> reply". The answer is
// read only from the reply after the end of thinking (grading/extract.ts replyText does the same);
// a response cut off inside its thinking has no reply. The markers are the tokenizer layer's
// (src/engine/tokenizer/thinking.ts: one definition, with the model's ids and template switch).
import { THINK_CLOSE, THINK_OPEN } from '../engine/tokenizer/thinking.ts';

export { THINK_CLOSE, THINK_OPEN };

/** Most generated tokens an evaluation may ask for (reasoning models: 32K). */
export const MAX_EVAL_TOKENS = 32_768;

/** Generation caps offered for evaluation: a short answer, then reasoning budgets up to 32K. */
export const TOKEN_PRESETS: readonly { label: string; maxTokens: number }[] = [
  { label: 'short answer (512)', maxTokens: 512 },
  { label: 'reasoning 4K', maxTokens: 4_096 },
  { label: 'reasoning 8K', maxTokens: 8_192 },
  { label: 'reasoning 16K', maxTokens: 16_384 },
  { label: 'reasoning 32K', maxTokens: MAX_EVAL_TOKENS },
];

export interface ThinkingSplit {
  /** The thinking text (null when the response has none). */
  thinking: string | null;
  /** What follows the end of thinking ('' when the thinking never ended). */
  reply: string;
  /** False when a <think> was opened and never closed (cut off while thinking). */
  closed: boolean;
}

/** The response as graded: where the chat template opened the thinking in the prompt (R1-Distill's
 *  generation prompt ends with `<think>\n`), the reply starts inside it, so the opening is put back. */
export function responseText(text: string, thinkingOpen: boolean | undefined): string {
  return thinkingOpen && !text.trimStart().startsWith(THINK_OPEN) ? `${THINK_OPEN}\n${text}` : text;
}

/** Splits a response at its last </think>; text without thinking tags is all reply. */
export function splitThinking(text: string): ThinkingSplit {
  const end = text.lastIndexOf(THINK_CLOSE);
  if (end >= 0) {
    const head = text.slice(0, end);
    const open = head.indexOf(THINK_OPEN);
    return { thinking: (open >= 0 ? head.slice(open + THINK_OPEN.length) : head).trim(), reply: text.slice(end + THINK_CLOSE.length).trim(), closed: true };
  }
  const open = text.indexOf(THINK_OPEN);
  if (open >= 0) return { thinking: text.slice(open + THINK_OPEN.length).trim(), reply: '', closed: false };
  return { thinking: null, reply: text, closed: true };
}
