// The editable prompt template. It asks for a plan, then numbered steps, then the final answer in
// \boxed{}, wrapped in the tags that src/segment/segment.ts reads as teacher-provided segments
// (<plan> -> strategy, <step> -> tactic, <answer> -> answer; teacher tags win there).
import type { PromptTemplate } from '../domain/teacher.ts';
import type { ChatPrompt } from './types.ts';

export const PROBLEM_PLACEHOLDER = '{{problem}}';

export const DEFAULT_TEMPLATE: PromptTemplate = {
  system:
    'You are an expert mathematician who explains your reasoning so that a smaller model can learn from it.',
  user: [
    'Solve the problem below. Structure your answer exactly like this:',
    '',
    '<plan>The high-level strategy: what the problem asks, which idea or method solves it, and the order of the work. No calculations here.</plan>',
    '<step>First step of the work, with its calculation.</step>',
    '<step>Next step ... (as many <step> blocks as needed, one idea each)</step>',
    '<answer>\\boxed{final answer}</answer>',
    '',
    'Put only the final answer inside \\boxed{}, in simplest form.',
    '',
    'Problem:',
    PROBLEM_PLACEHOLDER,
  ].join('\n'),
};

/** Problems to the template: a clear error if the placeholder is missing. */
export function validateTemplate(t: PromptTemplate): string | undefined {
  if (!t.user.includes(PROBLEM_PLACEHOLDER)) return `The user prompt template must contain ${PROBLEM_PLACEHOLDER} (where the problem goes).`;
  return undefined;
}

export function renderPrompt(t: PromptTemplate, problem: string): ChatPrompt {
  const err = validateTemplate(t);
  if (err) throw new Error(err);
  const user = t.user.split(PROBLEM_PLACEHOLDER).join(problem);
  return t.system.trim() ? { system: t.system, user } : { user };
}
