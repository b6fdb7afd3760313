// The answer-forms corpus: whole responses (as models write them) graded against a reference,
// one class per form of issue 13, each case with the expected verdict and why. Responses marked
// `real` are taken from the bundled MATH500 solutions / GSM8K model solutions (trimmed to the
// answer sentence); the rest are written after forms seen in model outputs.
export interface FormCase {
  cls: 'unboxed' | 'latex' | 'relation' | 'matrix' | 'several' | 'number' | 'symbolic' | 'wrong';
  response: string;
  reference: string;
  correct: boolean;
  why: string;
  real?: string;
}

export const FORMS: FormCase[] = [
  // ---- Unboxed final answers in math mode: the last math expression is the candidate.
  { cls: 'unboxed', response: 'Adding the cases, the probability is $\\frac{1}{3}$.', reference: '\\frac{1}{3}', correct: true, why: 'last $..$, not the last digit "3"' },
  { cls: 'unboxed', response: 'So we get \\( (9+1) \\)', reference: '10', correct: true, why: 'last \\(..\\) evaluated' },
  { cls: 'unboxed', response: 'Solving, $3k = 1$, hence $k = \\frac{1}{3}$', reference: '\\frac{1}{3}', correct: true, why: 'labelled unboxed answer' },
  { cls: 'unboxed', response: 'The final answer is $28\\%$', reference: '28', correct: true, why: '"final answer is" with a percent in $..$' },
  { cls: 'unboxed', response: 'Therefore\n\\[\n\\frac{2}{7}\n\\]', reference: '\\frac{2}{7}', correct: true, why: 'display math \\[..\\]' },
  { cls: 'unboxed', response: 'Thus the area is $$12\\sqrt{3}$$', reference: '12\\sqrt3', correct: true, why: '$$..$$ display' },
  { cls: 'unboxed', response: 'We have $x^2 = 4$ and since $x>0$, the answer is $2$.', reference: '2', correct: true, why: '"the answer is" wins over earlier math' },
  { cls: 'unboxed', response: 'Multiplying out, $\\frac{1}{3} \\cdot 3 = 1$', reference: '1', correct: true, why: 'a computation: its last side' },
  { cls: 'unboxed', response: 'It costs $18 a day and $20 on weekends, so $38$ in total.', reference: '38', correct: true, why: 'currency "$18 a day and $" is not math' },
  { cls: 'unboxed', response: 'Therefore, the sum is $\\frac{1+\\sqrt{5}}{2}$.', reference: '\\frac{1+\\sqrt5}{2}', correct: true, why: 'whole expression, not its last digit "2"' },
  { cls: 'unboxed', response: 'The slope is $m = -\\frac{3}{4}$. So the line has slope $-\\frac34$.', reference: '-\\frac{3}{4}', correct: true, why: 'last math wins; \\frac34 shorthand' },
  { cls: 'unboxed', response: 'So $n = 5$ and there are 10 ways.', reference: '10', correct: true, why: 'a number after the last math is the later candidate' },
  { cls: 'unboxed', response: 'The value is $\\frac{1}{3}$.', reference: '3', correct: false, why: '1/3 is not 3 (the old last-number reading)' },
  { cls: 'unboxed', response: 'We find $(x, y) = (2, -1)$.', reference: '(2,-1)', correct: true, why: 'labelled tuple' },

  // ---- LaTeX shorthands and decorations.
  { cls: 'latex', response: '\\boxed{\\frac13}', reference: '\\frac{1}{3}', correct: true, why: '\\frac13' },
  { cls: 'latex', response: '\\boxed{\\frac3{4}}', reference: '0.75', correct: true, why: '\\frac3{4}' },
  { cls: 'latex', response: '\\boxed{\\sqrt3}', reference: '\\sqrt{3}', correct: true, why: '\\sqrt3' },
  { cls: 'latex', response: '\\boxed{\\sqrt 2+\\sqrt 5}', reference: '\\sqrt{5}+\\sqrt{2}', correct: true, why: '\\sqrt with a space, terms reordered' },
  { cls: 'latex', response: '\\boxed{\\cfrac{2}{3}}', reference: '\\frac{2}{3}', correct: true, why: '\\cfrac' },
  { cls: 'latex', response: '\\boxed{\\tfrac{5}{2}}', reference: '2.5', correct: true, why: '\\tfrac' },
  { cls: 'latex', response: '\\boxed{\\left( \\frac{3}{2}, -13 \\right)}', reference: '\\left( \\frac{3}{2}, -13 \\right)', correct: true, why: '\\left/\\right', real: 'math500 #206' },
  { cls: 'latex', response: '\\boxed{\\left(\\tfrac32,-13\\right)}', reference: '\\left( \\frac{3}{2}, -13 \\right)', correct: true, why: '\\left/\\right with \\tfrac32' },
  { cls: 'latex', response: 'The length is \\boxed{25\\text{ meters}}.', reference: '25', correct: true, why: 'trailing \\text{ meters}' },
  { cls: 'latex', response: '\\boxed{\\textbf{12}}', reference: '12', correct: true, why: '\\textbf' },
  { cls: 'latex', response: '\\boxed{7\\textnormal{ miles}}', reference: '7', correct: true, why: '\\textnormal unit' },
  { cls: 'latex', response: '\\boxed{\\mathrm{e}}', reference: 'e', correct: true, why: '\\mathrm{e} is e' },
  { cls: 'latex', response: '\\boxed{\\mathrm{e}^{2}}', reference: 'e^2', correct: true, why: 'Euler\'s number squared' },
  { cls: 'latex', response: '\\boxed{\\text{E}}', reference: 'E', correct: true, why: '\\text{E} vs E' },
  { cls: 'latex', response: '\\boxed{\\text{odd}}', reference: 'odd', correct: true, why: '\\text{odd} vs odd' },
  { cls: 'latex', response: '\\boxed{\\dfrac{270}{7}^\\circ}', reference: '\\frac{270}7\\text{ degrees}', correct: true, why: 'degrees sign vs \\text{ degrees}', real: 'math500 #166' },
  { cls: 'latex', response: '\\boxed{\\displaystyle \\frac{\\pi}{4}}', reference: '\\frac{\\pi}{4}', correct: true, why: '\\displaystyle' },
  { cls: 'latex', response: '\\boxed{\\frac31}', reference: '\\frac13', correct: false, why: 'shorthand read in order: 3/1 is not 1/3' },
  { cls: 'latex', response: '\\boxed{\\sqrt3}', reference: '3', correct: false, why: '\\sqrt3 is not 3' },
  { cls: 'latex', response: '\\boxed{\\textbf{odd}}', reference: '\\text{even}', correct: false, why: 'decorated words still compared' },

  // ---- Relations and equations.
  { cls: 'relation', response: '\\boxed{x \\geq 5}', reference: 'x >= 5', correct: true, why: '\\geq vs >=' },
  { cls: 'relation', response: '\\boxed{5 \\leq x}', reference: 'x \\ge 5', correct: true, why: 'sides swapped' },
  { cls: 'relation', response: '\\boxed{-x > -1}', reference: 'x < 1', correct: true, why: 'multiplied by -1 flips the relation' },
  { cls: 'relation', response: '\\boxed{x \\neq 3}', reference: 'x != 3', correct: true, why: '\\neq vs !=' },
  { cls: 'relation', response: '\\boxed{2y = 4x + 6}', reference: 'y = 2x + 3', correct: true, why: 'equation scaled' },
  { cls: 'relation', response: '\\boxed{y - 2x = 3}', reference: 'y = 2x + 3', correct: true, why: 'equation rearranged', real: 'math500 #454 answer' },
  { cls: 'relation', response: '\\boxed{-5x + 7y - 11z - 4 = 0}', reference: '5x - 7y + 11z + 4 = 0', correct: true, why: 'plane equation times -1', real: 'math500 #179 answer' },
  { cls: 'relation', response: '\\boxed{x = \\frac{1}{3}}', reference: '1/3', correct: true, why: 'labelled answer vs bare value' },
  { cls: 'relation', response: '\\boxed{(p,q)=(3,2)}', reference: '(3,2)', correct: true, why: 'labelled tuple' },
  { cls: 'relation', response: '\\boxed{|AB| = 1}', reference: '1', correct: true, why: 'labelled length' },
  { cls: 'relation', response: '\\boxed{V_1:V_2=11:21}', reference: '11:21', correct: true, why: 'labelled ratio' },
  { cls: 'relation', response: '\\boxed{z = 1 + 1 = 2}', reference: '2', correct: true, why: 'a chain: its last side' },
  { cls: 'relation', response: '\\boxed{-2 \\le x \\le 7}', reference: 'x \\in [-2,7]', correct: true, why: 'inequality vs interval', real: 'math500 #383 answer' },
  { cls: 'relation', response: '\\boxed{0 < f(x) < 1}', reference: '(0,1)', correct: true, why: 'range as a chain vs interval' },
  { cls: 'relation', response: '\\boxed{x > 2}', reference: '(2,\\infty)', correct: true, why: 'inequality vs half-line', real: 'math500 #184 answer' },
  { cls: 'relation', response: '\\boxed{y = -2x}', reference: 'y = -2x', correct: true, why: 'identical equation', real: 'math500 #492' },
  { cls: 'relation', response: '\\boxed{2x + y = 0}', reference: 'y = -2x', correct: true, why: 'rearranged line' },
  { cls: 'relation', response: '\\boxed{x \\geq 5}', reference: 'x > 5', correct: false, why: 'strict vs non-strict' },
  { cls: 'relation', response: '\\boxed{x < 1}', reference: '-x < -1', correct: false, why: 'the relation points the other way' },
  { cls: 'relation', response: '\\boxed{x > 3}', reference: '3', correct: false, why: 'an inequality is not a value' },
  { cls: 'relation', response: '\\boxed{y = 2x + 1}', reference: 'y = 2x + 3', correct: false, why: 'different line' },
  { cls: 'relation', response: '\\boxed{-2 < x \\le 7}', reference: 'x \\in [-2,7]', correct: false, why: 'open end vs closed end' },

  // ---- Matrices and vectors.
  { cls: 'matrix', response: '\\boxed{\\begin{pmatrix} -\\frac13 \\\\ \\frac23 \\\\ \\frac53 \\end{pmatrix}}', reference: '\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}', correct: true, why: 'entries numerically', real: 'math500 #99 answer' },
  { cls: 'matrix', response: '\\boxed{\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}}', reference: '\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', correct: true, why: 'bmatrix vs pmatrix', real: 'math500 #248 answer' },
  { cls: 'matrix', response: '\\boxed{\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]}', reference: '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', correct: true, why: 'array in \\left[ \\right]' },
  { cls: 'matrix', response: '\\boxed{\\begin{pmatrix} 0.2 \\\\ -3.6 \\end{pmatrix}}', reference: '\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}', correct: true, why: 'decimal entries', real: 'math500 #408 answer' },
  { cls: 'matrix', response: 'The projection is $\\begin{pmatrix} 16/49 \\\\ 48/49 \\\\ 24/49 \\end{pmatrix}$.', reference: '\\begin{pmatrix} 16/49 \\\\ 48/49 \\\\ 24/49 \\end{pmatrix}', correct: true, why: 'unboxed matrix', real: 'math500 #420 answer' },
  { cls: 'matrix', response: '\\boxed{\\begin{pmatrix} -7 \\\\ 16 \\\\ 6 \\end{pmatrix}}', reference: '\\begin{pmatrix} -7 \\\\ 16 \\\\ 5 \\end{pmatrix}', correct: false, why: 'one entry differs' },
  { cls: 'matrix', response: '\\boxed{\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}}', reference: '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', correct: false, why: 'transposed matrix' },

  // ---- Several answers.
  { cls: 'several', response: 'The solutions are $\\boxed{1}$ and $\\boxed{2}$.', reference: '1, 2', correct: true, why: 'two boxes, one answer each' },
  { cls: 'several', response: '\\boxed{1}\\boxed{2}', reference: '1,2', correct: true, why: '\\boxed{1}\\boxed{2} vs \\boxed{1,2}' },
  { cls: 'several', response: 'First we get \\boxed{4} for the sub-case; in total the answer is \\boxed{7}.', reference: '7', correct: true, why: 'boxes far apart: the last one' },
  { cls: 'several', response: 'The pairs are \\boxed{(5, 8) \\text{ and } (8, 5)}', reference: '(8,5), (5,8)', correct: true, why: 'pairs in any order' },
  { cls: 'several', response: '\\boxed{\\{(1,2), (2,1)\\}}', reference: '(2,1),(1,2)', correct: true, why: 'unordered set of tuples' },
  { cls: 'several', response: '\\boxed{3; 5; 7}', reference: '3, 5, 7', correct: true, why: '; as separator', real: 'math500 #36 answer' },
  { cls: 'several', response: 'So $x = 1$ or $x = -2$, i.e. \\boxed{x = 1 \\text{ or } x = -2}', reference: '1,-2', correct: true, why: '"or" between labelled answers', real: 'math500 #25 answer' },
  { cls: 'several', response: '\\boxed{\\pm 2021}', reference: '\\{-2021, 2021\\}', correct: true, why: '\\pm is two values' },
  { cls: 'several', response: '\\boxed{3 + 2\\sqrt{2}, 3 - 2\\sqrt{2}}', reference: '3 \\pm 2 \\sqrt{2}', correct: true, why: '\\pm expanded', real: 'math500 #284 answer' },
  { cls: 'several', response: '\\boxed{-2, 1+\\sqrt{5}, 1-\\sqrt{5}}', reference: '\\{1\\pm\\sqrt{5},-2\\}', correct: true, why: '\\pm inside a set', real: 'math500 #422 answer' },
  { cls: 'several', response: 'so it is $\\boxed{15\\frac{39}{40}}$, or $\\boxed{\\frac{639}{40}}$.', reference: '\\frac{639}{40}', correct: true, why: 'one value boxed in two forms', real: 'math500 #452 solution' },
  { cls: 'several', response: 'so $\\boxed{3}$ or $\\boxed{4}$', reference: '4', correct: false, why: 'two different answers for one value' },
  { cls: 'several', response: '\\boxed{1}', reference: '1, 2', correct: false, why: 'one of two answers' },
  { cls: 'several', response: '\\boxed{(5,8)}', reference: '(8,5), (5,8)', correct: false, why: 'one of two pairs' },
  { cls: 'several', response: '\\boxed{2021}', reference: '\\pm 2021', correct: false, why: '\\pm needs both signs' },

  // ---- Numbers.
  { cls: 'number', response: '\\boxed{1 000 000}', reference: '1000000', correct: true, why: 'thousands separated by spaces' },
  { cls: 'number', response: '\\boxed{10,080}', reference: '10,\\!080', correct: true, why: 'thousands commas', real: 'math500 #198 answer' },
  { cls: 'number', response: '\\boxed{11,111,111,100}', reference: '11,\\! 111,\\! 111,\\! 100', correct: true, why: 'several groups', real: 'math500 #217 answer' },
  { cls: 'number', response: '\\boxed{1000,99}', reference: '1000.99', correct: true, why: 'decimal comma' },
  { cls: 'number', response: '\\boxed{0,111}', reference: '0.111', correct: true, why: 'decimal comma after 0' },
  { cls: 'number', response: '\\boxed{.4}', reference: '0.4', correct: true, why: 'leading dot' },
  { cls: 'number', response: 'The total is \\boxed{\\$32,348}.', reference: '\\$32,\\!348', correct: true, why: 'currency and commas', real: 'math500 #242 answer' },
  { cls: 'number', response: '\\boxed{5.4\\text{ cents}}', reference: '5.4 \\text{ cents}', correct: true, why: 'units', real: 'math500 #301 answer' },
  { cls: 'number', response: '\\boxed{€45}', reference: '45', correct: true, why: 'euro sign' },
  { cls: 'number', response: '\\boxed{45 \\text{ USD}}', reference: '45', correct: true, why: 'currency code' },
  { cls: 'number', response: '\\boxed{25\\%}', reference: '0.25', correct: true, why: 'percent as a fraction' },
  { cls: 'number', response: 'So the answer is 58,500 dollars.', reference: '58,500', correct: true, why: 'the-answer-is with units', real: 'math500 #343 answer' },
  { cls: 'number', response: 'Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer\'s market.\n#### 18', reference: '18', correct: true, why: 'GSM8K calculator annotations', real: 'gsm8k_test_model_solutions row 0' },
  { cls: 'number', response: '\\boxed{1,001}', reference: '1000', correct: false, why: 'commas keep the value' },
  { cls: 'number', response: '\\boxed{10}', reference: '0.1', correct: false, why: 'no percent sign, no scaling' },

  // ---- Symbolic equivalence with variables.
  { cls: 'symbolic', response: '\\boxed{\\frac{x+2}{7}}', reference: '\\frac{x}{7}+\\frac{2}{7}', correct: true, why: 'a fraction split' },
  { cls: 'symbolic', response: '\\boxed{\\tan^2(y)+1}', reference: '\\sec^2(y)', correct: true, why: 'trig identity' },
  { cls: 'symbolic', response: '\\boxed{b + a + 2c}', reference: 'a+b+2c', correct: true, why: 'terms reordered' },
  { cls: 'symbolic', response: '\\boxed{(x-2)(x+3)}', reference: 'x^2+x-6', correct: true, why: 'factored' },
  { cls: 'symbolic', response: '\\boxed{\\frac{\\sqrt{3}}{3}}', reference: '\\frac{1}{\\sqrt3}', correct: true, why: 'rationalised denominator' },
  { cls: 'symbolic', response: '\\boxed{x^2-x-6}', reference: 'x^2+x-6', correct: false, why: 'sign of the middle term' },
  { cls: 'symbolic', response: '\\boxed{\\sin^2(y)+1}', reference: '\\sec^2(y)', correct: false, why: 'not an identity' },

  // ---- What must stay wrong.
  { cls: 'wrong', response: 'The code is AZYUK2A.', reference: '2', correct: false, why: 'a digit inside a word is not a number' },
  { cls: 'wrong', response: '\\boxed{\\frac{1+\\sqrt{5}}{2}}', reference: '2', correct: false, why: 'golden ratio is not 2' },
  { cls: 'wrong', response: '\\boxed{(3,4)}', reference: '(3,4]', correct: false, why: 'different interval bracket', real: 'math500 #103 answer' },
  { cls: 'wrong', response: '\\boxed{[-\\sqrt{3}, \\sqrt{3}]}', reference: '(-\\sqrt{3}, \\sqrt{3})', correct: false, why: 'closed vs open interval', real: 'math500 #356 answer' },
  { cls: 'wrong', response: '\\boxed{(0,9) \\cup (9,37)}', reference: '(0,9) \\cup (9,36)', correct: false, why: 'one end of a union differs', real: 'math500 #380 answer' },
  { cls: 'wrong', response: '\\boxed{(-\\infty, 2] \\cup (3, \\infty)}', reference: '(-\\infty, 2) \\cup (3, \\infty)', correct: false, why: 'closed end in a union', real: 'math500 #435 answer' },
  { cls: 'wrong', response: '\\boxed{\\begin{pmatrix} -1 & 0 \\\\ 0 & 1 \\end{pmatrix}}', reference: '\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', correct: false, why: 'different matrix' },
  { cls: 'wrong', response: '\\boxed{(6,31,1)}', reference: '(6,31,-1)', correct: false, why: 'one coordinate sign', real: 'math500 #60 answer' },
  { cls: 'wrong', response: '\\boxed{\\text{west}}', reference: '\\text{east}', correct: false, why: 'different word', real: 'math500 #97 answer' },
  { cls: 'wrong', response: '\\boxed{(15,29)}', reference: '(15,-29)', correct: false, why: 'sign of a coordinate', real: 'math500 #144 answer' },
  { cls: 'wrong', response: '\\boxed{1,2,3}', reference: '1, 2', correct: false, why: 'an extra answer' },
  { cls: 'wrong', response: '\\boxed{x + 1 = 5}', reference: '5', correct: false, why: 'an equation whose left side is not a label' },
];
