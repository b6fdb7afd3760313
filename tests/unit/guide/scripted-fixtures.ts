// Scripted models shared by the guided-inference unit tests.
import { ScriptedSession, ScriptedTokenizer, continueScript, ruleModel } from '../../../src/guide/testing/scripted.ts';
import type { GuideSettings } from '../../../src/domain/guide.ts';

export const tok = new ScriptedTokenizer(['Wait', ' Wait', 'Final', ' Answer', 'Step', ' check', 'Let', ' me']);

export function settings(over: Partial<GuideSettings> = {}): GuideSettings {
  return {
    seed: 7,
    sampling: { temperature: 0, topP: 1, topK: 3, maxNewTokens: 200 },
    interventions: {},
    ...over,
  };
}

/** Writes SCRIPT_A then stops; after a "Wait" it writes SCRIPT_B (from the last "Wait"). */
export const SCRIPT_A = 'Add 2 and 3. That gives 5.';
export const SCRIPT_B = ' Let me check: 2 + 3 = 5. Final Answer: 5';
export function waitModel(margin = 6) {
  return ruleModel(tok, (text) => {
    const w = text.lastIndexOf('Wait');
    if (w < 0) return { piece: continueScript(tok, SCRIPT_A, text.length), margin };
    return { piece: continueScript(tok, SCRIPT_B, text.length - (w + 4)), margin };
  });
}

/** Never stops on its own: repeats a sentence. */
export const RAMBLE = 'I think more about it. ';
export function rambleModel() {
  return ruleModel(tok, (text) => {
    const fa = text.toLowerCase().lastIndexOf('final answer:');
    if (fa >= 0) return { piece: continueScript(tok, ' 42', text.length - (fa + 13)), margin: 6 };
    return { piece: continueScript(tok, RAMBLE, text.length % RAMBLE.length), margin: 6 };
  });
}

/** Three steps; the second one is uncertain (small margin) so sampling wanders there. */
export const STEPS = 'Step 1: x is 2.\n\nStep 2: y is 3.\n\nStep 3: sum 5.\n\nFinal Answer: 5';
export function stepModel(uncertain = 3.5) {
  return ruleModel(tok, (text) => {
    const cur = text.slice(text.lastIndexOf('\n\n') + 1);
    const margin = cur.includes('Step 2') ? uncertain : 7;
    return { piece: continueScript(tok, STEPS, text.length), margin };
  });
}

/** Answers "5" or "6" depending on the sampled first token (for voting). */
export function voteModel() {
  return ruleModel(tok, (text) => {
    if (text.length === 0) return { piece: 'A', margin: 1, alt: 'B', altMargin: 1.4 };
    const script = text.startsWith('A') ? 'A: Final Answer: 5' : text.startsWith('B') ? 'B: Final Answer: 6' : 'C: Final Answer: 7';
    return { piece: continueScript(tok, script, text.length), margin: 8 };
  });
}

export function session(model: ReturnType<typeof ruleModel>) {
  return new ScriptedSession(model);
}
