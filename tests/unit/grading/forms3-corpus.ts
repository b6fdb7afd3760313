// The third edition's answer-forms corpus (issue 25): one class per failing form the issue names,
// each case a whole response with the expected verdict and why. These are the cases the grader was
// tuned on; tests/fixtures/grading/heldout-forms.jsonl is the held-out set it was NOT tuned on
// (npm run bench:grader). `real` marks a response taken from a published model output.
export interface Form3Case {
  cls: 'fraction' | 'matrix' | 'prose' | 'runon' | 'number' | 'letter' | 'structure' | 'wrong';
  response: string;
  reference: string;
  correct: boolean;
  why: string;
  /** The problem text, when the verdict depends on what it asks. */
  problem?: string;
  real?: string;
}

const R = String.raw;

export const FORMS3: Form3Case[] = [
  // ---- A fraction against its plain form.
  { cls: 'fraction', response: R`\boxed{\frac{10}{9}}`, reference: '10/9', correct: true, why: 'a/b reference vs \\frac' },
  { cls: 'fraction', response: 'So the answer is 10/9.', reference: R`\frac{10}{9}`, correct: true, why: 'a/b in prose is the fraction, not its denominator 9' },
  { cls: 'fraction', response: 'The probability that both are red is 3/28.', reference: R`\frac{3}{28}`, correct: true, why: 'last number is the fraction 3/28, not 28' },
  { cls: 'fraction', response: 'Each share is -5/6 of the whole.', reference: '-5/6', correct: true, why: 'negative slash fraction in prose' },
  { cls: 'fraction', response: R`\boxed{\frac{9}{10}}`, reference: '10/9', correct: false, why: 'inverted' },
  { cls: 'fraction', response: 'So the answer is 10/9.', reference: '9', correct: false, why: 'the fraction is not its denominator' },
  { cls: 'fraction', response: 'He walked 3/4 of a mile and then 2 more miles.', reference: '2', correct: true, why: 'a later plain number still wins' },
  { cls: 'fraction', response: 'On 12/25 the store closes, so the answer is 12/25.', reference: R`\frac{12}{25}`, correct: true, why: '"the answer is" with a slash fraction' },

  // ---- Matrices with spaced or newline row breaks, bmatrix, array inside \left[ \right].
  { cls: 'matrix', response: R`\boxed{\begin{pmatrix}1 & 0 \\ 0 & 1\end{pmatrix}}`, reference: R`\begin{pmatrix}1&0\\0&1\end{pmatrix}`, correct: true, why: 'spaces around \\\\' },
  { cls: 'matrix', response: 'Therefore\n$$\\begin{pmatrix}1 & 0 \\\\\n 0 & 1\\end{pmatrix}$$', reference: R`\begin{pmatrix}1&0\\0&1\end{pmatrix}`, correct: true, why: 'unboxed display matrix with a newline after \\\\ (not split into lines)' },
  { cls: 'matrix', response: 'The matrix is $\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}$.', reference: R`\begin{pmatrix} 2 \\ -1 \end{pmatrix}`, correct: true, why: 'unboxed inline column vector' },
  { cls: 'matrix', response: R`\boxed{\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}}`, reference: R`\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}`, correct: true, why: 'bmatrix vs pmatrix' },
  { cls: 'matrix', response: R`\boxed{\left[ \begin{array}{cc} 1 & 2 \\ 3 & 4 \end{array} \right]}`, reference: R`\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}`, correct: true, why: 'array inside \\left[ \\right]' },
  { cls: 'matrix', response: R`\boxed{\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}}`, reference: R`\begin{pmatrix} 1 & 2 \\ 4 & 3 \end{pmatrix}`, correct: false, why: 'entries swapped' },
  { cls: 'matrix', response: R`\boxed{\begin{pmatrix} 1 \\ 2 \end{pmatrix}}`, reference: R`\begin{pmatrix} 1 & 2 \end{pmatrix}`, correct: false, why: 'column vs row' },
  { cls: 'matrix', response: R`\boxed{\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}}`, reference: '1', correct: false, why: 'a matrix is not a number' },

  // ---- Answers in prose, with ASCII relations and labelled values.
  { cls: 'prose', response: 'Thus $x <= 2$ is our answer.', reference: R`x \le 2`, correct: true, why: 'ASCII <= in math in prose' },
  { cls: 'prose', response: 'The solution is $x != 5$.', reference: R`x \neq 5`, correct: true, why: 'ASCII !=' },
  { cls: 'prose', response: 'So we need $a >= 3$.', reference: R`a \geq 3`, correct: true, why: 'ASCII >=' },
  { cls: 'prose', response: 'The largest $n$ is 34.', reference: '34', correct: true, why: 'labelled value in a sentence' },
  { cls: 'prose', response: 'The final answer is 12,000,023. I hope it is correct.', reference: '12000023', correct: true, why: 'Minerva sentence, thousands commas' },
  { cls: 'prose', response: 'Thus $x <= 2$ is our answer.', reference: R`x \ge 2`, correct: false, why: 'relation reversed' },
  { cls: 'prose', response: 'The solution is $x != 5$.', reference: '5', correct: false, why: 'x != 5 is not x = 5' },
  { cls: 'prose', response: 'The largest $n$ is 34.', reference: '43', correct: false, why: 'digits swapped' },

  // ---- Replies that run on into a new chat turn or a note.
  { cls: 'runon', response: 'Hence the answer is \\boxed{3}.<|im_end|>\n<|im_start|>user\nGreat. Now what is 2+2? \\boxed{4}', reference: '3', correct: true, why: 'ChatML turn after the reply' },
  { cls: 'runon', response: 'The answer is \\boxed{3}.\n<start_of_turn>user\nWhat is 10? \\boxed{10}', reference: '3', correct: true, why: 'Gemma turn after the reply' },
  { cls: 'runon', response: 'So \\boxed{3}.<|eot_id|>\n<|start_header_id|>user<|end_header_id|>\n\\boxed{11}', reference: '3', correct: true, why: 'Llama 3 end of turn' },
  { cls: 'runon', response: 'So \\boxed{3}.<｜end▁of▁sentence｜><｜User｜>Next: \\boxed{9}', reference: '3', correct: true, why: 'DeepSeek end of sentence marker' },
  { cls: 'runon', response: 'The answer is \\boxed{3}.\n\n**Note:** In the variant where order matters the count would be \\boxed{6}.', reference: '3', correct: true, why: 'a note after the answer' },
  { cls: 'runon', response: 'Hence the answer is \\boxed{3}.<|im_end|>\n<|im_start|>user\n\\boxed{4}', reference: '4', correct: false, why: 'the answer after the marker is not the reply' },
  { cls: 'runon', response: '<think>\nMaybe 5? Or 7.\n</think>\n\nThe answer is \\boxed{7}.', reference: '7', correct: true, why: 'answer after the end of thinking' },
  { cls: 'runon', response: '<think>\nFirst guess \\boxed{5}... no, recheck, it is 7.\n</think>\n\nThe answer is 7.', reference: '5', correct: false, why: 'a box inside the thinking is not the answer' },

  // ---- Numbers: space thousands separators, decimal comma, currency after the number.
  { cls: 'number', response: R`\boxed{1 000}`, reference: '1000', correct: true, why: 'space thousands separator' },
  { cls: 'number', response: 'The total is 12 345 678 people.', reference: '12345678', correct: true, why: 'space separators in prose' },
  { cls: 'number', response: 'The density comes out as 2,75 g per cubic centimetre.', reference: '2.75', correct: true, why: 'decimal comma in running text' },
  { cls: 'number', response: 'In total she spends 120€.', reference: '120', correct: true, why: 'euro sign after the number' },
  { cls: 'number', response: R`\boxed{35\$}`, reference: '35', correct: true, why: 'dollar sign after the number' },
  { cls: 'number', response: 'The answer is 15 USD.', reference: '15', correct: true, why: 'currency code after the number' },
  { cls: 'number', response: R`\boxed{3,14}`, reference: '3.14', correct: false, why: 'in a box, "3,14" stays a list (ambiguous: reject, as the second edition decided); only running text reads a decimal comma' },
  { cls: 'number', response: R`\boxed{3,14}`, reference: R`\{3, 14\}`, correct: true, why: 'against a set the same text is a list' },
  { cls: 'number', response: 'We get 1, 2 and 3 as the roots.', reference: '1.2', correct: false, why: 'a list is not a decimal comma' },
  { cls: 'number', response: R`\boxed{1 000}`, reference: '10', correct: false, why: 'a separator is not a digit drop' },
  { cls: 'number', response: R`\boxed{2,750}`, reference: '2.75', correct: false, why: 'three digits after the comma: a thousands separator' },

  // ---- Letters and text answers.
  { cls: 'letter', response: 'The answer is $E$.', reference: R`\text{E}`, correct: true, why: '$E$ vs \\text{E}' },
  { cls: 'letter', response: R`Final Answer: $\textbf{(E)}$`, reference: 'E', correct: true, why: 'bold choice' },
  { cls: 'letter', response: 'So the answer is (B).', reference: R`\text{(B)}`, correct: true, why: 'bare choice in prose' },
  { cls: 'letter', response: 'The answer is $E$.', reference: R`\text{D}`, correct: false, why: 'different letter' },
  { cls: 'letter', response: R`\boxed{\text{Evelyn}}`, reference: R`\text{Evelyn}`, correct: true, why: 'text answer' },
  { cls: 'letter', response: R`\boxed{\text{Devon}}`, reference: R`\text{Evelyn}`, correct: false, why: 'different name' },

  // ---- Tuples, sets, intervals, several boxes.
  { cls: 'structure', response: R`\boxed{\left( 2, -3 \right)}`, reference: '(2,-3)', correct: true, why: '\\left( \\right) tuple' },
  { cls: 'structure', response: R`\boxed{\{1,3\}}`, reference: '(1,3)', problem: 'Find all solutions to $x^2-4x+3=0$.', correct: true, why: 'the problem asks for the solutions' },
  { cls: 'structure', response: R`\boxed{\{1,3\}}`, reference: '(1,3)', problem: 'Find the ordered pair $(a,b)$ with $a+b=4$ and $b=3a$.', correct: false, why: 'an ordered pair is asked' },
  { cls: 'structure', response: R`\boxed{\{1,3\}}`, reference: '(1,3)', correct: false, why: 'no problem text: a set is not a pair' },
  { cls: 'structure', response: R`\boxed{-2 \le x \le 7}`, reference: R`x \in [-2,7]`, correct: true, why: 'chain vs interval' },
  { cls: 'structure', response: R`\boxed{-2 < x \le 7}`, reference: R`x \in [-2,7]`, correct: false, why: 'open lower end' },
  { cls: 'structure', response: R`\boxed{|z| \ge 4}`, reference: R`(-\infty,-4] \cup [4,\infty)`, correct: true, why: '|z| bound vs union' },
  { cls: 'structure', response: R`\boxed{|z| < 4}`, reference: '(-4,4)', correct: true, why: '|z| < 4 vs open interval' },
  { cls: 'structure', response: R`\boxed{|z| > 4}`, reference: '(-4,4)', correct: false, why: 'outside vs inside' },
  { cls: 'structure', response: R`\boxed{(2;1),(1;2)}`, reference: R`\{(1,2),(2,1)\}`, correct: true, why: 'tuples written with ;, other order' },
  { cls: 'structure', response: R`\boxed{(1;2);(3;4)}`, reference: '(3,4),(1,2)', correct: true, why: '; between and inside tuples' },
  { cls: 'structure', response: R`\boxed{(2;1)}`, reference: '(1,2)', correct: false, why: 'pair reversed' },
  { cls: 'structure', response: R`The roots are $\boxed{2}$ and $\boxed{5}$.`, reference: '2, 5', correct: true, why: 'two boxes joined by "and"' },
  { cls: 'structure', response: R`$\boxed{x = 2}$ and $\boxed{x = 5}$`, reference: R`\{2, 5\}`, correct: true, why: 'labelled boxes joined by "and"' },
  { cls: 'structure', response: R`So $p = \boxed{3}$ and $q = \boxed{-1}$.`, reference: '(3,-1)', correct: true, why: 'labelled boxes in order vs the pair' },
  { cls: 'structure', response: R`So $x = \boxed{4}$ and $y = \boxed{1}$.`, reference: '(1,4)', correct: false, why: 'labelled boxes in the wrong order' },
  { cls: 'structure', response: R`\boxed{\{(1;2);(2;1)\}}`, reference: '(2,1),(1,2)', correct: true, why: 'a braced set of ; tuples' },
  { cls: 'structure', response: R`The roots are $\boxed{2}$ and $\boxed{6}$.`, reference: '2, 5', correct: false, why: 'one root wrong' },

  // ---- Forms met in Math-Verify's test cases (tuned on them; tests/fixtures/grading/math-verify-cases.jsonl).
  { cls: 'letter', response: '$E$', reference: R`\text{E}`, correct: true, why: 'a response that is one math span is the answer, even a lone letter', real: 'Math-Verify test_all.py' },
  { cls: 'letter', response: '$odd$', reference: R`\text{odd}`, correct: true, why: 'a lone math span holding a word' },
  { cls: 'fraction', response: R`\frac{10}{9}`, reference: '10/9', correct: true, why: 'a bare LaTeX answer without delimiters', real: 'Math-Verify test_simple_fraction_notation' },
  { cls: 'fraction', response: R`-\frac{10}{9}`, reference: '10/9', correct: false, why: 'the sign counts' },
  { cls: 'prose', response: 'Final Answer: The largest $n$ is 34.', reference: '34', correct: true, why: 'a number after the last math of a Final Answer line', real: 'Math-Verify test_math_extraction_additional_cases' },
  { cls: 'prose', response: 'Final Answer: Jane started growing Sphere 3 hours ago.', reference: '3', correct: true, why: 'a Final Answer sentence without math: its number' },
  { cls: 'structure', response: R`$$\boxed{(2, 2)} \quad \text{and} \quad \boxed{(6, 2)}$$`, reference: '(2, 2), (6, 2)', correct: true, why: 'boxes joined by \quad \text{and} \quad', real: 'Math-Verify test_open_thoughts' },
  { cls: 'structure', response: R`$z \in \left[-\frac{3}{2}, -1\right] \cup \left[1, \frac{3}{2}\right]$`, reference: R`1\leq|z|\leq \frac{3}{2}`, correct: true, why: 'a <= |z| <= b is two intervals', real: 'Math-Verify test_numina_cases' },
  { cls: 'structure', response: R`$z \in \left[-\frac{3}{2}, -1\right]$`, reference: R`1\leq|z|\leq \frac{3}{2}`, correct: false, why: 'one of the two intervals' },
  { cls: 'number', response: 'So it is 0,111.', reference: '0.111', correct: true, why: 'after a lone 0 a comma is a decimal comma' },
  { cls: 'number', response: R`\boxed{32, 349}`, reference: '32349', correct: false, why: 'a comma and a space make a list, not a thousands separator', real: 'Math-Verify test_math_extraction_additional_cases' },

  // ---- Wrong stays wrong.
  { cls: 'wrong', response: 'So the answer is 1/2.', reference: '2', correct: false, why: 'a half is not 2' },
  { cls: 'wrong', response: R`\boxed{x < 2}`, reference: R`x \le 2`, correct: false, why: 'strict vs non-strict' },
  { cls: 'wrong', response: R`\boxed{(-\infty, 2)}`, reference: R`x \le 2`, correct: false, why: 'open vs closed end' },
  { cls: 'wrong', response: R`\boxed{10}`, reference: '100', correct: false, why: 'a factor of ten' },
  { cls: 'wrong', response: 'The answer is 1 000 000.', reference: '1000', correct: false, why: 'space-separated million' },
  { cls: 'wrong', response: R`\boxed{\text{C}}`, reference: R`\text{E}`, correct: false, why: 'different choice' },
];
