// The tiny reasoning world: generator, programmatic teacher, splits, tokenizer (src/world/, models/tiny-world/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SELECTION, runSelection } from '../../../src/selection/select.ts';
import { isTruncated, repetitionRatio } from '../../../src/selection/quality.ts';
import { segmentReasoning } from '../../../src/segment/segment.ts';
import { loadTokenizer } from '../../../src/engine/tokenizer/hf-tokenizer.ts';
import { WORLD_DOMAINS, applyOp, drillable, generateProblems } from '../../../src/world/generator.ts';
import { TEST_SIZE, testRows, worldTestSet, worldTrainProblems } from '../../../src/world/split.ts';
import { FLAW_KINDS, teachWorld, traceText } from '../../../src/world/teacher.ts';
import { worldPool } from '../../../src/world/pool.ts';
import { pretrainDocs } from '../../../src/world/corpus.ts';

describe('generator', () => {
  const ps = generateProblems({ seed: 5, n: 600 });
  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateProblems({ seed: 5, n: 600 })).toEqual(ps);
    expect(generateProblems({ seed: 6, n: 600 }).map((p) => p.problem)).not.toEqual(ps.map((p) => p.problem));
  });
  it('covers every domain x level cell evenly', () => {
    const cells = new Map<string, number>();
    for (const p of ps) cells.set(`${p.domain}/${p.level}`, (cells.get(`${p.domain}/${p.level}`) ?? 0) + 1);
    expect(cells.size).toBe(WORLD_DOMAINS.length * 5);
    for (const n of cells.values()) expect(n).toBe(600 / 30);
  });
  it('writes programs of drilled single operations whose results are right, ending in the answer', () => {
    for (const p of ps) {
      expect(p.ops.length).toBeGreaterThan(0);
      for (const s of p.ops) { expect(drillable(s.a, s.op, s.b)).toBe(true); expect(applyOp(s.a, s.op, s.b)).toBe(s.c); }
      if (p.domain === 'comparison') expect(p.ops.map((s) => s.c)).toContain(Number(p.answer));
      else expect(p.answer).toBe(String(p.ops.at(-1)!.c));
      expect(p.problem).not.toContain('undefined');
      expect(p.problem).not.toContain('NaN');
    }
  });
  it('needs more steps at higher levels', () => {
    const mean = (l: number) => { const xs = ps.filter((p) => p.level === l); return xs.reduce((a, p) => a + p.ops.length, 0) / xs.length; };
    expect(mean(5)).toBeGreaterThan(mean(3));
    expect(mean(3)).toBeGreaterThan(mean(1));
  });
  it('refuses unknown domains and levels with a message naming them', () => {
    expect(() => generateProblems({ seed: 1, n: 3, domains: ['geometry' as never] })).toThrow(/unknown domain "geometry"/);
    expect(() => generateProblems({ seed: 1, n: 3, levels: [7] })).toThrow(/level must be 1\.\.5, got 7/);
  });
});

describe('splits', () => {
  it('the committed test set is the generator output and the train pool shares no problem with it', () => {
    const test = worldTestSet();
    expect(test.length).toBe(TEST_SIZE);
    const file = readFileSync('public/data/tiny_world_test.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(file).toEqual(testRows(test));
    const { problems, removed } = worldTrainProblems(20000, test);
    expect(problems.length).toBe(20000);
    expect(removed).toBeGreaterThan(0); // the decontamination did drop template-level overlaps
    const testTexts = new Set(test.map((p) => p.problem));
    expect(problems.filter((p) => testTexts.has(p.problem))).toEqual([]);
  });
  it('pretraining documents exclude the test problems', () => {
    const test = worldTestSet(200);
    const docs = pretrainDocs({ seed: 3, docs: 3000, exclude: new Set(test.map((p) => p.problem)) });
    const joined = docs.join('\n');
    for (const p of test) expect(joined.includes(`user\n${p.problem}<|im_end|>`)).toBe(false);
  });
});

describe('teacher', () => {
  const problems = generateProblems({ seed: 8, n: 1200 });
  const { traces, flaws } = teachWorld(problems, { seed: 8 });
  it('writes a plan, numbered steps and a boxed answer that the segmenter splits into strategy / tactics / answer', () => {
    const clean = traces.filter((t) => !flaws.has(t.id)).slice(0, 50);
    for (const t of clean) {
      expect(t.reasoning).toMatch(/^Plan: .+\nStep 1: /);
      expect(t.reasoning.endsWith(`Final Answer: \\boxed{${t.referenceAnswer}}`)).toBe(true);
      const kinds = segmentReasoning(t.reasoning).map((s) => s.kind);
      expect(kinds).toEqual(['strategy', 'tactic', 'answer']);
    }
  });
  it('flaws 20-30% of the problems, every kind present, recorded apart from the traces', () => {
    const share = flaws.size / problems.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
    expect(new Set(flaws.values())).toEqual(new Set(FLAW_KINDS));
    for (const t of traces) expect(JSON.stringify(t)).not.toMatch(/wrong-step|near-duplicate|"flaw/);
  });
  it('each flaw is of its kind', () => {
    for (const t of traces) {
      const f = flaws.get(t.id);
      if (f === 'wrong-answer' || f === 'wrong-step') expect(t.answer).not.toBe(t.referenceAnswer);
      if (f === 'wrong-step-right-answer') { expect(t.answer).toBe(t.referenceAnswer); expect(t.reasoning).not.toBe(traceText(problems.find((p) => p.id === t.id)!)); }
      if (f === 'truncated') expect(isTruncated({ reasoning: t.reasoning, meta: {} })).toBe(true);
      if (f === 'loop') expect(repetitionRatio(t.reasoning)).toBeGreaterThan(0.5);
      if (f === 'no-plan') expect(t.reasoning.startsWith('Step 1:')).toBe(true);
      if (f === 'near-duplicate') expect(t.id.endsWith('~dup')).toBe(true);
    }
  });
  it('the Reason1K selection lets through far fewer flawed traces than a random pick', async () => {
    const pool = worldPool({ n: 1500, seed: 2 });
    const sel = await runSelection({ traces: pool.traces, config: { ...DEFAULT_SELECTION, targetN: 300 }, seed: 1 });
    const flawedKept = sel.ids.filter((id) => pool.flaws.has(id)).length;
    expect(sel.ids.length).toBe(300);
    const poolShare = pool.flaws.size / pool.traces.length;
    expect(flawedKept / 300).toBeLessThan(poolShare / 2);
  });
});

describe('tokenizer (models/tiny-world)', () => {
  it('has digits as single tokens and decodes world text exactly, with no replacement characters', async () => {
    const tok = await loadTokenizer({ tokenizerJson: readFileSync('models/tiny-world/tokenizer.json', 'utf8'), tokenizerConfig: readFileSync('models/tiny-world/tokenizer_config.json', 'utf8'), source: 'models/tiny-world' });
    const text = traceText(generateProblems({ seed: 1, n: 30 })[29]);
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.decode(ids)).not.toContain('\uFFFD');
    for (const d of '0123456789') expect(tok.encode(d).length).toBe(1);
    expect(tok.encode('1234').length).toBe(4);
    const chat = tok.applyChatTemplate([{ role: 'user', content: 'What is 2 + 3?' }]);
    expect(tok.decode(chat)).toContain('<|im_start|>assistant\n');
  });
});
