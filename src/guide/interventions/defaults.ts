// The one table of intervention defaults: what each intervention uses when switched on without a
// value of its own (the Playground form, evaluation's budget forcing and the engine read it here).
import type { BudgetForcing, SelfConsistency, StepVerification } from '../../domain/guide.ts';
import { THINK_CLOSE } from '../../engine/tokenizer/thinking.ts';

export const INTERVENTION_DEFAULTS: {
  readonly budget: Readonly<BudgetForcing>;
  readonly verify: Readonly<Required<StepVerification>>;
  readonly consistency: Readonly<SelfConsistency>;
} = {
  budget: {
    minThinking: 32,
    maxThinking: 80,
    extension: 'Wait',
    answerPhrase: 'Final Answer:',
    // the end of thinking of the reasoning families (Qwen3, R1-Distill, SmolLM3): src/engine/tokenizer/thinking.ts
    endMarkers: [THINK_CLOSE],
    maxAnswerTokens: 32,
  },
  verify: {
    threshold: 0.4,
    action: 'mark',
    maxResamples: 2,
    checkPhrase: 'Let me check this step.',
    maxStepTokens: 48,
    resampleTemperature: 0.7,
    by: 'confidence',
  },
  consistency: { n: 3 },
};
