import { describe, expect, it } from 'vitest';
import { extractAnswer, gradeResponse, lastBoxed, lastNumber } from '../../../src/grading/index.ts';

describe('extraction', () => {
  it('takes the last \\boxed{} with nested braces', () => {
    expect(lastBoxed('a \\boxed{1} then \\boxed{\\frac{1}{\\sqrt{2}}} end')).toBe('\\frac{1}{\\sqrt{2}}');
    expect(lastBoxed('\\fbox{x^{2}}')).toBe('x^{2}');
    expect(lastBoxed('\\boxed 5$')).toBe('5');
    expect(lastBoxed('unbalanced \\boxed{1')).toBeNull();
    expect(lastBoxed('no box')).toBeNull();
    expect(lastBoxed('set \\boxed{\\{1,2\\}}')).toBe('\\{1,2\\}');
  });
  it('prefers boxed over other markers', () => {
    expect(extractAnswer('The answer is 3. Actually \\boxed{4}')).toEqual({ answer: '4', method: 'boxed' });
  });
  it('reads "the answer is" and "Final Answer:"', () => {
    expect(extractAnswer('So the answer is $\\frac{3}{4}$.')).toEqual({ answer: '\\frac{3}{4}', method: 'the-answer-is' });
    expect(extractAnswer('Final Answer: The final answer is $7$. I hope it is correct.')?.answer).toBe('7');
    expect(extractAnswer('Final Answer: 12')).toEqual({ answer: '12', method: 'final-answer' });
  });
  it('reads GSM8K #### and A: lines', () => {
    expect(extractAnswer('work\n#### 1,234')).toEqual({ answer: '1,234', method: 'gsm8k-hash' });
    expect(extractAnswer('She makes $18 a day.\nA: 18')).toEqual({ answer: '18', method: 'gsm8k-a' });
  });
  it('falls back to the last number, ignoring calculator notes', () => {
    expect(lastNumber('she has 2 then <<2*3=6>>6 and 1,500 left.')).toBe('1500');
    expect(extractAnswer('costs 5 dollars then -7.5.')).toEqual({ answer: '-7.5', method: 'last-number' });
    expect(extractAnswer('no digits here')).toBeNull();
  });
  it('grades a whole response with the extraction method recorded', async () => {
    const g = await gradeResponse('Thus \\boxed{0.5}.', '\\frac{1}{2}');
    expect(g.correct).toBe(true);
    expect(g.extraction).toBe('boxed');
    const none = await gradeResponse('I do not know.', '5');
    expect(none.correct).toBe(false);
    expect(none.method).toBe('no-answer');
  });
});
