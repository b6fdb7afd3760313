// Difficulty from a loaded student: the mean negative log-likelihood per token of the reference
// answer after the problem (teacher-forced, greedy-free). Higher = harder for this student. Runs on
// any DecodeSession (the WebGPU decoder in the engine worker). A target token outside the reported
// top-k gets the k-th log-prob (an upper bound on its true log-prob) and is counted as `outside`.
import type { DecodeSession, TextTokenizer } from '../engine/generation/types.ts';

export interface AnswerNll {
  nll: number;
  tokens: number;
  /** Answer tokens that fell outside the top-k (their log-prob is bounded, not exact). */
  outside: number;
}

export const ANSWER_PREFIX = 'The answer is ';

export async function answerNll(session: DecodeSession, tok: TextTokenizer, problem: string, answer: string, topK = 64): Promise<AnswerNll | undefined> {
  const target = tok.encode(answer.trim());
  if (!target.length) return undefined;
  let prompt = [...tok.applyChatTemplate([{ role: 'user', content: problem }]), ...tok.encode(ANSWER_PREFIX)];
  const room = session.maxLength - target.length - 1;
  if (room < 8) return undefined;
  if (prompt.length > room) prompt = prompt.slice(prompt.length - room);
  session.truncate(0);
  const opts = { temperature: 0, topP: 1, topK, u: 0 };
  let step = await session.feed(prompt, opts);
  let sum = 0;
  let outside = 0;
  for (let i = 0; i < target.length; i++) {
    const id = target[i];
    let lp = id === step.id ? step.logprob : step.alternatives.find((a) => a.id === id)?.logprob;
    if (lp === undefined) {
      outside++;
      lp = step.alternatives.length ? step.alternatives[step.alternatives.length - 1].logprob : step.logprob;
    }
    sum += lp;
    if (i < target.length - 1) step = await session.feed([id], opts);
  }
  return { nll: -sum / target.length, tokens: target.length, outside };
}
