// The OpenAI-compatible client against the real fake server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlmServer, fakeReply, type FakeLlmServer } from '../../support/fake-llm-server.ts';
import { createOpenAiClient } from '../../../src/teacher/openai-client.ts';
import { TeacherError } from '../../../src/teacher/errors.ts';
import { withRetry } from '../../../src/teacher/retry.ts';
import type { TeacherConfig } from '../../../src/domain/teacher.ts';

const KEY = 'sk-test-SENTINEL-openai-0123456789';
let srv: FakeLlmServer;
let cfg: TeacherConfig;
beforeAll(async () => {
  srv = await startFakeLlmServer({ answers: { 'What is 2+3?': '5' } });
  cfg = { provider: 'openai', baseUrl: `${srv.url}/v1/`, model: 'gpt-4o-mini', maxTokens: 256, topLogprobs: 3 };
});
afterAll(() => srv.close());

describe('OpenAI-compatible client', () => {
  it('streams a completion with logprobs and usage, sending the bearer key and the request shape', async () => {
    const n = srv.requests.length;
    const c = await createOpenAiClient(cfg, { apiKey: KEY }).complete({ system: 'Be brief.', user: 'What is 2+3?' });
    expect(c.text).toBe(fakeReply('What is 2+3?', '5'));
    expect(c.finishReason).toBe('stop');
    expect(c.usage.outputTokens).toBeGreaterThan(5);
    expect(c.usage.inputTokens).toBeGreaterThan(0);
    expect(c.logprobs?.length).toBe(c.usage.outputTokens);
    expect(c.logprobs!.map((t) => t.token).join('')).toBe(c.text);
    expect(c.logprobs![1].top).toHaveLength(3);
    expect(c.logprobs![1].top[0].token).toBe(c.logprobs![1].token);
    const req = srv.requests[n];
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toMatchObject({ model: 'gpt-4o-mini', stream: true, logprobs: true, top_logprobs: 3, max_tokens: 256, stream_options: { include_usage: true } });
    expect(req.body.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2+3?' }]);
  });

  it('works without streaming too', async () => {
    const c = await createOpenAiClient({ ...cfg, stream: false }, { apiKey: KEY }).complete({ user: 'What is 2+3?' });
    expect(c.text).toContain('\\boxed{5}');
    expect(c.logprobs?.length).toBe(c.usage.outputTokens);
    expect(srv.requests.at(-1)!.body.stream).toBe(false);
  });

  it('uses max_completion_tokens and no temperature for OpenAI reasoning models', async () => {
    await createOpenAiClient({ ...cfg, model: 'o3-mini', temperature: 0.7, topLogprobs: 0 }, { apiKey: KEY }).complete({ user: 'What is 2+3?' });
    const body = srv.requests.at(-1)!.body;
    expect(body.max_completion_tokens).toBe(256);
    expect(body.max_tokens).toBeUndefined();
    expect(body.temperature).toBeUndefined();
    await createOpenAiClient({ ...cfg, temperature: 0.3 }, { apiKey: KEY }).complete({ user: 'What is 2+3?' });
    expect(srv.requests.at(-1)!.body).toMatchObject({ max_tokens: 256, temperature: 0.3 });
  });

  it('omits logprobs when not asked', async () => {
    const c = await createOpenAiClient({ ...cfg, topLogprobs: 0 }, { apiKey: KEY }).complete({ user: 'What is 2+3?' });
    expect(c.logprobs).toBeUndefined();
    expect(srv.requests.at(-1)!.body.logprobs).toBeUndefined();
  });

  it('429 with retry-after is retryable and carries the wait', async () => {
    srv.script({ kind: 'status', status: 429, retryAfter: '2' });
    const err = await createOpenAiClient(cfg, { apiKey: KEY }).complete({ user: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(TeacherError);
    expect(err.status).toBe(429);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(2000);
    expect(err.message).toContain('HTTP 429');
  });

  it('retries 429 (retry-after 0) and 500, then succeeds', async () => {
    srv.script({ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'status', status: 500 });
    const retries: number[] = [];
    const client = createOpenAiClient(cfg, { apiKey: KEY });
    const n = srv.requests.length;
    const c = await withRetry(() => client.complete({ user: 'What is 2+3?' }), { baseDelayMs: 5, onRetry: (i) => retries.push(i.error.status ?? 0) });
    expect(c.text).toContain('\\boxed{5}');
    expect(retries).toEqual([429, 500]);
    expect(srv.requests.length - n).toBe(3);
  });

  it('malformed JSON in the stream is a clear parse error', async () => {
    srv.script({ kind: 'malformed' });
    const err = await createOpenAiClient(cfg, { apiKey: KEY }).complete({ user: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(TeacherError);
    expect(err.kind).toBe('parse');
    expect(err.message).toMatch(/malformed JSON/);
  });

  it('malformed JSON without streaming too', async () => {
    srv.script({ kind: 'malformed' });
    const err = await createOpenAiClient({ ...cfg, stream: false }, { apiKey: KEY }).complete({ user: 'x' }).catch((e) => e);
    expect(err.kind).toBe('parse');
  });

  it('a connection dropped mid-stream is a retryable network error, and a retry recovers', async () => {
    srv.script({ kind: 'drop', afterChunks: 4 });
    const client = createOpenAiClient(cfg, { apiKey: KEY });
    const err = await client.complete({ user: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(TeacherError);
    expect(err.kind).toBe('network');
    expect(err.retryable).toBe(true);
    srv.script({ kind: 'drop', afterChunks: 2 });
    const c = await withRetry(() => client.complete({ user: 'What is 2+3?' }), { baseDelayMs: 5 });
    expect(c.text).toContain('\\boxed{5}');
  });

  it('a slow stream can be cancelled with an AbortSignal', async () => {
    srv.script({ kind: 'slow', delayMs: 200 });
    const ac = new AbortController();
    const p = createOpenAiClient(cfg, { apiKey: KEY }).complete({ user: 'x' }, ac.signal).catch((e) => e);
    setTimeout(() => ac.abort(), 150);
    const err = await p;
    expect(err).toBeInstanceOf(TeacherError);
    expect(err.kind).toBe('aborted');
  });

  it('a slow stream that is left alone completes', async () => {
    srv.script({ kind: 'slow', delayMs: 5 });
    const c = await createOpenAiClient(cfg, { apiKey: KEY }).complete({ user: 'What is 2+3?' });
    expect(c.text).toContain('\\boxed{5}');
  });

  it('never puts the key in an error message, even when the server echoes it', async () => {
    srv.script({ kind: 'echo-key' });
    const err = await createOpenAiClient(cfg, { apiKey: KEY }).complete({ user: 'x' }).catch((e) => e);
    expect(err.status).toBe(401);
    expect(err.message).toContain('Check the API key');
    expect(err.message).toContain('[redacted]');
    expect(err.message).not.toContain('SENTINEL');
    expect(String(err.stack)).not.toContain('SENTINEL');
  });

  it('an unreachable server and a bad base URL give clear messages', async () => {
    const dead = await createOpenAiClient({ ...cfg, baseUrl: 'http://127.0.0.1:1/v1' }, { apiKey: KEY }).complete({ user: 'x' }).catch((e) => e);
    expect(dead.kind).toBe('network');
    expect(dead.message).toMatch(/could not reach http:\/\/127\.0\.0\.1:1\/v1\/chat\/completions/);
    const bad = await createOpenAiClient({ ...cfg, baseUrl: 'not a url' }, { apiKey: KEY }).complete({ user: 'x' }).catch((e) => e);
    expect(bad.kind).toBe('config');
    expect(bad.message).toMatch(/not a valid URL/);
  });
});
