// The job runner against the real fake server, with an in-memory store of the same contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlmServer, type FakeLlmServer } from '../../support/fake-llm-server.ts';
import { MemoryJobStore } from '../../support/memory-job-store.ts';
import { runJob, type StopReason } from '../../../src/teacher/job-runner.ts';
import { newJobRecord, validateSpec } from '../../../src/teacher/new-job.ts';
import { DEFAULT_TEMPLATE, renderPrompt } from '../../../src/teacher/prompt-template.ts';
import { DEFAULT_PRICES } from '../../../src/teacher/pricing.ts';
import { parsePastedProblems } from '../../../src/teacher/problems.ts';
import type { NewJobSpec } from '../../../src/teacher/job.ts';

const KEY = 'sk-SENTINEL-job-runner-abcdef0123';
const ANSWERS = { 'Add 2 and 3.': '5', 'Multiply 4 by 5.': '20', 'Halve 9.': '\\frac{9}{2}' };
let srv: FakeLlmServer;
beforeAll(async () => { srv = await startFakeLlmServer({ answers: ANSWERS }); });
afterAll(() => srv.close());

function spec(over: Partial<NewJobSpec> = {}): NewJobSpec {
  const { problems } = parsePastedProblems('Add 2 and 3.\t5\nMultiply 4 by 5. => 21\nHalve 9.\t4.5');
  return {
    teacher: { provider: 'openai', baseUrl: `${srv.url}/v1`, model: 'gpt-4o-mini', maxTokens: 300, topLogprobs: 2 },
    template: DEFAULT_TEMPLATE, problems, samples: 2, concurrency: 2, prices: [...DEFAULT_PRICES], ...over,
  };
}
const fast = { baseDelayMs: 5, maxRetries: 4 };

describe('prompt template and problems', () => {
  it('renders the problem into the template and asks for plan, steps, boxed answer in tags', () => {
    const p = renderPrompt(DEFAULT_TEMPLATE, 'What is 1+1?');
    expect(p.user).toContain('What is 1+1?');
    for (const s of ['<plan>', '<step>', '<answer>', '\\boxed{']) expect(p.user).toContain(s);
    expect(() => renderPrompt({ system: '', user: 'no placeholder' }, 'x')).toThrow(/\{\{problem\}\}/);
  });
  it('parses pasted JSONL and names bad lines', () => {
    const r = parsePastedProblems('{"problem":"A?","answer":3}\n{"question":"B?"}\n{"problem":5}\n{bad');
    expect(r.problems.map((p) => [p.problem, p.reference])).toEqual([['A?', '3'], ['B?', undefined]]);
    expect(r.errors).toEqual([expect.stringMatching(/^line 3: field "problem"/), expect.stringMatching(/^line 4: not valid JSON/)]);
  });
  it('validates a spec field by field', () => {
    expect(validateSpec(spec())).toEqual([]);
    const errs = validateSpec(spec({ samples: 0, concurrency: 99, problems: [], teacher: { provider: 'openai', baseUrl: 'ftp://x', model: '', maxTokens: 0 } }));
    expect(validateSpec(spec({ teacher: { provider: 'openai', baseUrl: 'https://api.example.com/v1?key=sk-abc', model: 'm', maxTokens: 10 } }))).toEqual([expect.stringMatching(/^base URL: no user:password, query/)]);
    expect(validateSpec(spec({ teacher: { provider: 'openai', baseUrl: 'https://user:pw@api.example.com/v1', model: 'm', maxTokens: 10 } }))).toHaveLength(1);
    expect(validateSpec(spec({ teacher: { provider: 'anthropic', baseUrl: 'https://api.anthropic.com', model: 'm', maxTokens: 2000, thinkingBudget: 4000 } }))).toEqual([expect.stringMatching(/^thinking budget/)]);
    expect(errs.join('\n')).toMatch(/model: required[\s\S]*base URL[\s\S]*max tokens[\s\S]*problems[\s\S]*samples[\s\S]*concurrency/);
  });
});

describe('runJob', () => {
  it('generates every (problem, sample) once through faults, grades against references, accounts tokens and cost', async () => {
    const store = new MemoryJobStore();
    const { job, pool } = newJobRecord(spec(), 'job-a');
    store.pools.set(pool.id, pool);
    await store.putJob(job);
    srv.script({ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'status', status: 500 }, { kind: 'drop', afterChunks: 3 }, { kind: 'malformed' });
    const progress: number[] = [];
    const out = await runJob('job-a', { store, apiKey: KEY, retry: fast, onProgress: (j) => progress.push(j.progress.done) });
    expect(out.status).toBe('done');
    expect(out.progress).toMatchObject({ total: 6, done: 6, failed: 0, retries: 4 });
    expect(store.traces.size).toBe(6);
    expect([...store.traces.values()].map((t) => t.seq).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pool.counts.traces).toBe(6);
    expect(progress.at(-1)).toBe(6);
    const t0 = store.traces.get(`${pool.id}:0`)!;
    expect(t0).toMatchObject({ problem: 'Add 2 and 3.', answer: '5', referenceAnswer: '5', teacher: 'openai/gpt-4o-mini', poolId: 'teacher-job-a' });
    expect(t0.teacherTopK!.k).toBe(2);
    expect(t0.teacherTopK!.tokens.map((x) => x.token).join('')).toBe(t0.reasoning);
    expect(t0.segments!.map((s) => s.kind)).toEqual(['strategy', 'tactic', 'tactic', 'answer']);
    expect(t0.segments!.every((s) => s.source === 'teacher')).toBe(true);
    // Gate: problem 2's reference (21) disagrees with the teacher (20); 9/2 == 4.5 numerically.
    const gates = [...store.traces.values()].sort((a, b) => a.seq - b.seq).map((t) => (t.meta.gate as { passed: boolean }).passed);
    expect(gates).toEqual([true, true, false, false, true, true]);
    expect((store.traces.get(`${pool.id}:2`)!.meta.gate as { reason: string }).reason).toBe('wrong-answer');
    expect(out.progress.passed).toBe(4);
    const sumOut = [...store.traces.values()].reduce((a, t) => a + (t.meta.usage as { outputTokens: number }).outputTokens, 0);
    expect(out.usage.outputTokens).toBe(sumOut);
    expect(out.cost).toBeCloseTo((out.usage.inputTokens * 0.15 + out.usage.outputTokens * 0.6) / 1e6, 12);
    expect(out.errors.filter((e) => e.retry)).toHaveLength(4);
  });

  it('pauses mid-job and resumes without duplicating or re-requesting finished units', async () => {
    const store = new MemoryJobStore();
    const { job, pool } = newJobRecord(spec({ concurrency: 1 }), 'job-b');
    store.pools.set(pool.id, pool);
    await store.putJob(job);
    srv.setChunkDelay(3);
    const ac = new AbortController();
    let reason: StopReason = 'pause';
    const first = await runJob('job-b', { store, apiKey: KEY, retry: fast, signal: ac.signal, stopReason: () => reason,
      onProgress: (j) => { if (j.progress.done >= 2) ac.abort(); } });
    srv.setChunkDelay(0);
    expect(first.status).toBe('paused');
    const afterPause = store.traces.size;
    expect(afterPause).toBeGreaterThanOrEqual(2);
    expect(afterPause).toBeLessThan(6);
    const before = srv.requests.length;
    const second = await runJob('job-b', { store, apiKey: KEY, retry: fast });
    expect(second.status).toBe('done');
    expect(srv.requests.length - before).toBe(6 - afterPause);
    expect(store.traces.size).toBe(6);
    expect(second.progress.done).toBe(6);
    expect(pool.counts.traces).toBe(6);
    // Cancel is final.
    reason = 'cancel';
    expect((await runJob('job-b', { store, apiKey: KEY })).status).toBe('done');
  });

  it('stops on an auth error with a key-free message, and nothing stored holds the key', async () => {
    const store = new MemoryJobStore();
    const { job, pool } = newJobRecord(spec({ concurrency: 1 }), 'job-c');
    store.pools.set(pool.id, pool);
    await store.putJob(job);
    srv.script({ kind: 'echo-key' });
    const out = await runJob('job-c', { store, apiKey: KEY, retry: fast });
    expect(out.status).toBe('failed');
    expect(out.failure).toMatch(/HTTP 401.*Check the API key/);
    expect(store.traces.size).toBe(0);
    // resume with the same key works once the server accepts it
    const ok = await runJob('job-c', { store, apiKey: KEY, retry: fast });
    expect(ok.status).toBe('done');
    const everything = JSON.stringify({ jobs: [...store.jobs.values()], traces: [...store.traces.values()], pools: [...store.pools.values()] });
    expect(everything).toContain('HTTP 401');
    expect(everything).not.toContain('SENTINEL');
  });

  it('runs an Anthropic job and keeps the thinking block with the trace', async () => {
    const store = new MemoryJobStore();
    const { job, pool } = newJobRecord(spec({ samples: 1, teacher: { provider: 'anthropic', baseUrl: srv.url, model: 'claude-sonnet-4-x', maxTokens: 300 } }), 'job-d');
    store.pools.set(pool.id, pool);
    await store.putJob(job);
    const out = await runJob('job-d', { store, apiKey: KEY, retry: fast });
    expect(out.status).toBe('done');
    expect(store.traces.size).toBe(3);
    const t = store.traces.get(`${pool.id}:0`)!;
    expect(t.teacher).toBe('anthropic/claude-sonnet-4-x');
    expect(t.meta.thinking).toContain('think');
    expect(t.teacherTopK).toBeUndefined();
    expect(out.cost).toBeGreaterThan(0);
  });
});
