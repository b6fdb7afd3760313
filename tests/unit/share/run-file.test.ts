import { describe, expect, it } from 'vitest';
import { runGuided } from '../../../src/guide/engine.ts';
import { exportRun, importRun, RunFileError } from '../../../src/share/run-file.ts';
import type { GuideRun, Recipe } from '../../../src/domain/recipe.ts';
import { session, settings, tok, waitModel } from '../guide/scripted-fixtures.ts';

async function makeRun(): Promise<GuideRun> {
  const s = settings({ interventions: { budget: { minThinking: 40, maxThinking: 0, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: [], maxAnswerTokens: 8 } } });
  const recipe: Recipe = { v: 1, model: 'scripted', problem: { kind: 'text', text: 'What is 2+3?', reference: '5' }, seed: s.seed, sampling: s.sampling, interventions: s.interventions };
  const timeline = await runGuided({ problem: 'What is 2+3?', reference: '5', settings: s, answerTrace: {} }, { session: session(waitModel()), tokenizer: tok });
  return { id: 'run-1', createdAt: 1_700_000_000_000, recipe, problemText: 'What is 2+3?', timeline };
}

describe('run file export/import', () => {
  it('round-trips a run', async () => {
    const run = await makeRun();
    expect(importRun(exportRun(run), 'a.json')).toEqual(JSON.parse(JSON.stringify(run)));
  });

  it('names the file and the first bad field', async () => {
    const run = await makeRun();
    const good = JSON.parse(exportRun(run));
    const cases: [(f: any) => void, RegExp][] = [
      [(f) => { f.format = 'other'; }, /^b\.json: format must be "reasonbridge-run"/],
      [(f) => { f.version = 9; }, /^b\.json: version 9 is not supported/],
      [(f) => { f.run.timeline.samples[0].tokens[3].logprob = 'x'; }, /run\.timeline\.samples\[0\]\.tokens\[3\]\.logprob must be a number/],
      [(f) => { f.run.timeline.samples[0].events[0].kind = 'explode'; }, /run\.timeline\.samples\[0\]\.events\[0\]\.kind must be one of/],
      [(f) => { f.run.timeline.samples[0].steps[0].end = 10_000; }, /run\.timeline\.samples\[0\]\.steps\[0\] span 0\.\.10000 is outside/],
      [(f) => { f.run.recipe.model = '/home/me/model'; }, /run\.recipe\.model must be a hub id/],
      [(f) => { f.run.timeline.main = 5; }, /run\.timeline\.main must index a sample/],
    ];
    for (const [mutate, re] of cases) {
      const f = structuredClone(good);
      mutate(f);
      let err: unknown;
      try { importRun(JSON.stringify(f), 'b.json'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(RunFileError);
      expect((err as Error).message).toMatch(re);
    }
    expect(() => importRun('{not json', 'c.json')).toThrow(/^c\.json: is not valid JSON/);
    expect(() => importRun('{"format":"reasonbridge-run","version":1,"run":{}}', 'd.json')).toThrow(/^d\.json: run\.recipe must be an object$/);
  });
});
