// The Anthropic Messages client against the real fake server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlmServer, fakeReply, type FakeLlmServer } from '../../support/fake-llm-server.ts';
import { createAnthropicClient, messagesUrl, ANTHROPIC_VERSION } from '../../../src/teacher/anthropic-client.ts';
import { TeacherError } from '../../../src/teacher/errors.ts';
import { withRetry } from '../../../src/teacher/retry.ts';
import type { TeacherConfig } from '../../../src/domain/teacher.ts';

const KEY = 'sk-ant-SENTINEL-anthropic-0123456789';
let srv: FakeLlmServer;
let cfg: TeacherConfig;
beforeAll(async () => {
  srv = await startFakeLlmServer({ answers: { 'Compute 7*6.': '42', 'Compute 9-4.': '5' } });
  cfg = { provider: 'anthropic', baseUrl: srv.url, model: 'claude-sonnet-4-20250514', maxTokens: 512, temperature: 0.7 };
});
afterAll(() => srv.close());

describe('Anthropic Messages client', () => {
  it('builds the messages URL from either base form', () => {
    expect(messagesUrl('https://api.anthropic.com')).toBe('https://api.anthropic.com/v1/messages');
    expect(messagesUrl('https://api.anthropic.com/v1/')).toBe('https://api.anthropic.com/v1/messages');
  });

  it('streams text and thinking with usage, sending the browser-access headers', async () => {
    const n = srv.requests.length;
    const c = await createAnthropicClient(cfg, { apiKey: KEY }).complete({ system: 'sys', user: 'Compute 9-4.' });
    expect(c.text).toBe(fakeReply('Compute 9-4.', '5'));
    expect(c.thinking).toBe('Let me think about this carefully.');
    expect(c.finishReason).toBe('end_turn');
    expect(c.model).toBe('claude-sonnet-4-20250514');
    expect(c.usage.inputTokens).toBeGreaterThan(0);
    expect(c.usage.outputTokens).toBeGreaterThan(5);
    const req = srv.requests[n];
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe(KEY);
    expect(req.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
    expect(req.headers['anthropic-dangerous-direct-browser-access']).toBe('true');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.body).toMatchObject({ model: cfg.model, max_tokens: 512, stream: true, system: 'sys', temperature: 0.7 });
    expect(req.body.messages).toEqual([{ role: 'user', content: 'Compute 9-4.' }]);
  });

  it('asks for extended thinking (without temperature) when a budget is set', async () => {
    await createAnthropicClient({ ...cfg, thinkingBudget: 1024 }, { apiKey: KEY }).complete({ user: 'Compute 7*6.' });
    const body = srv.requests.at(-1)!.body;
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(body.temperature).toBeUndefined();
  });

  it('works without streaming', async () => {
    const c = await createAnthropicClient({ ...cfg, stream: false }, { apiKey: KEY }).complete({ user: 'Compute 7*6.' });
    expect(c.text).toContain('\\boxed{42}');
    expect(c.thinking).toContain('think');
    expect(c.usage.outputTokens).toBeGreaterThan(0);
  });

  it('retries 429 with an HTTP-date retry-after, and 500 (overloaded), then succeeds', async () => {
    srv.script({ kind: 'status', status: 429, retryAfter: new Date(Date.now() - 1000).toUTCString() }, { kind: 'status', status: 529 });
    const seen: { status?: number; delayMs: number }[] = [];
    const client = createAnthropicClient(cfg, { apiKey: KEY });
    const c = await withRetry(() => client.complete({ user: 'Compute 7*6.' }), { baseDelayMs: 5, onRetry: (i) => seen.push({ status: i.error.status, delayMs: i.delayMs }) });
    expect(c.text).toContain('\\boxed{42}');
    expect(seen.map((s) => s.status)).toEqual([429, 529]);
    expect(seen[0].delayMs).toBe(0); // a date in the past: no wait
  });

  it('a 400 is not retried and names the API message', async () => {
    srv.script({ kind: 'status', status: 400, body: JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: too large' } }) });
    let calls = 0;
    const client = createAnthropicClient(cfg, { apiKey: KEY });
    const err = await withRetry(() => { calls++; return client.complete({ user: 'x' }); }, { baseDelayMs: 5 }).catch((e) => e);
    expect(calls).toBe(1);
    expect(err.message).toContain('invalid_request_error: max_tokens: too large');
  });

  it('malformed event data is a parse error; a dropped connection is a retryable network error', async () => {
    srv.script({ kind: 'malformed' });
    const client = createAnthropicClient(cfg, { apiKey: KEY });
    const e1 = await client.complete({ user: 'x' }).catch((e) => e);
    expect(e1.kind).toBe('parse');
    srv.script({ kind: 'drop', afterChunks: 3 });
    const e2 = await client.complete({ user: 'x' }).catch((e) => e);
    expect(e2).toBeInstanceOf(TeacherError);
    expect(e2.kind).toBe('network');
    expect(e2.retryable).toBe(true);
    expect(e2.message).toMatch(/ended before message_stop|dropped|Network/);
  });

  it('cancels a slow stream', async () => {
    srv.script({ kind: 'slow', delayMs: 200 });
    const ac = new AbortController();
    const p = createAnthropicClient(cfg, { apiKey: KEY }).complete({ user: 'x' }, ac.signal).catch((e) => e);
    setTimeout(() => ac.abort(), 100);
    expect((await p).kind).toBe('aborted');
  });

  it('scrubs an echoed key from the error', async () => {
    srv.script({ kind: 'echo-key' });
    const err = await createAnthropicClient(cfg, { apiKey: KEY }).complete({ user: 'x' }).catch((e) => e);
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('SENTINEL');
    expect(err.message).toContain('[redacted]');
  });

  it('answers CORS preflight with the headers a browser needs', async () => {
    const res = await fetch(`${srv.url}/v1/messages`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:9999', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key,anthropic-version' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = res.headers.get('access-control-allow-headers')!;
    for (const h of ['authorization', 'x-api-key', 'anthropic-version', 'anthropic-dangerous-direct-browser-access', 'content-type']) expect(allowed).toContain(h);
  });
});
