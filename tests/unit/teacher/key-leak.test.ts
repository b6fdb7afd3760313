// A job run with a sentinel key: the key must not appear in the exported JSONL, a share link made
// from a generated trace, the stored job/trace/pool records, or anything logged (console included),
// even though the server echoes it back in error bodies.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeLlmServer, type FakeLlmServer } from '../../support/fake-llm-server.ts';
import { MemoryJobStore } from '../../support/memory-job-store.ts';
import { runJob } from '../../../src/teacher/job-runner.ts';
import { newJobRecord } from '../../../src/teacher/new-job.ts';
import { DEFAULT_TEMPLATE } from '../../../src/teacher/prompt-template.ts';
import { DEFAULT_PRICES } from '../../../src/teacher/pricing.ts';
import { tracesToJsonl } from '../../../src/teacher/jsonl.ts';
import { encodeRecipe, decodeRecipe } from '../../../src/share/codec.ts';
import type { Recipe } from '../../../src/domain/recipe.ts';

const KEY = 'sk-leak-SENTINEL-0123456789abcdef';
let srv: FakeLlmServer;
beforeAll(async () => { srv = await startFakeLlmServer({ answers: { 'Add 1 and 1.': '2', 'Add 2 and 2.': '4' } }); });
afterAll(() => srv.close());

describe('the API key never leaks', () => {
  for (const provider of ['openai', 'anthropic'] as const) {
    it(`${provider}: export, share link, stored records and logs hold no key`, async () => {
      const consoleLines: string[] = [];
      const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
        vi.spyOn(console, m).mockImplementation((...a: unknown[]) => { consoleLines.push(a.map(String).join(' ')); }));
      const logLines: string[] = [];
      try {
        const store = new MemoryJobStore();
        const { job, pool } = newJobRecord({
          teacher: { provider, baseUrl: provider === 'openai' ? `${srv.url}/v1` : srv.url, model: provider === 'openai' ? 'gpt-4o' : 'claude-3-5-haiku', maxTokens: 200, topLogprobs: 2 },
          template: DEFAULT_TEMPLATE,
          problems: [{ problem: 'Add 1 and 1.', reference: '2', origin: 'pasted:1' }, { problem: 'Add 2 and 2.', reference: '4', origin: 'pasted:2' }],
          samples: 2, concurrency: 1, prices: [...DEFAULT_PRICES],
        }, `leak-${provider}`);
        store.pools.set(pool.id, pool);
        await store.putJob(job);
        // Retryable errors whose bodies echo the key, then a dropped stream.
        srv.script({ kind: 'echo-key', status: 500 }, { kind: 'echo-key', status: 503 }, { kind: 'drop', afterChunks: 2 });
        const out = await runJob(job.id, { store, apiKey: KEY, retry: { baseDelayMs: 2 }, onLog: (l) => { logLines.push(l); console.warn(l); } });
        expect(out.status).toBe('done');
        expect(store.traces.size).toBe(4);
        // The key really went over the wire, and the errors really were recorded.
        expect(srv.requests.some((r) => r.headers.authorization === `Bearer ${KEY}` || r.headers['x-api-key'] === KEY)).toBe(true);
        expect(out.errors.filter((e) => e.message.includes('[redacted]'))).toHaveLength(2);
        expect(logLines.length).toBeGreaterThanOrEqual(4);

        const exported = tracesToJsonl([...store.traces.values()]);
        expect(exported.trim().split('\n')).toHaveLength(4);
        const t = [...store.traces.values()][0];
        const recipe: Recipe = {
          v: 1, model: 'tiny-reasoner', problem: { kind: 'text', text: t.problem, reference: t.referenceAnswer }, seed: 1,
          sampling: { temperature: 0.7, topP: 1, topK: 5, maxNewTokens: 256 }, interventions: { strategy: { source: 'typed', plan: t.reasoning.slice(0, 300) } },
        };
        const link = encodeRecipe(recipe);
        const decoded = decodeRecipe(link);
        expect(decoded.ok).toBe(true);
        // The share codec itself refuses a key that someone pastes into a shared field.
        expect(() => encodeRecipe({ ...recipe, problem: { kind: 'text', text: `use ${KEY}` } })).toThrow(/API key/);

        const stored = JSON.stringify({ jobs: [...store.jobs.values()], traces: [...store.traces.values()], pools: [...store.pools.values()] });
        for (const [what, text] of [['export', exported], ['share link', link + JSON.stringify(decoded)], ['stored records', stored], ['log', logLines.join('\n')], ['console', consoleLines.join('\n')]] as const) {
          expect(text.length, what).toBeGreaterThan(0);
          expect(text.includes(KEY) || text.includes('SENTINEL'), `${what} holds the key`).toBe(false);
        }
      } finally {
        for (const s of spies) s.mockRestore();
      }
    });
  }
});
