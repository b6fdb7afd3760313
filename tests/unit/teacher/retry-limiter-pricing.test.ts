// Pure pieces: retry-after parsing, backoff, the retry loop, the limiter, prices, SSE, scrubbing.
import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, withRetry } from '../../../src/teacher/retry.ts';
import { createLimiter } from '../../../src/teacher/limiter.ts';
import { costOf, findPrice, parsePriceTable, formatPriceTable, DEFAULT_PRICES } from '../../../src/teacher/pricing.ts';
import { TeacherError, scrubSecrets } from '../../../src/teacher/errors.ts';
import { readSse } from '../../../src/teacher/sse.ts';

describe('retry', () => {
  it('parses retry-after as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with bounded jitter, capped', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(600);
    expect(backoffDelay(20, 100, 1000, () => 1)).toBe(1000);
  });

  it('uses retry-after over backoff, gives up after maxRetries, and never retries non-retryable errors', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => { waits.push(ms); };
    let n = 0;
    const err = await withRetry(async () => { n++; throw new TeacherError('http', 'x', { status: 503, retryable: true, retryAfterMs: n === 1 ? 1234 : undefined }); },
      { maxRetries: 3, baseDelayMs: 100, random: () => 1, sleep }).catch((e) => e);
    expect(n).toBe(4);
    expect(waits).toEqual([1234, 200, 400]);
    expect(err.status).toBe(503);
    let m = 0;
    await withRetry(async () => { m++; throw new TeacherError('http', 'bad', { status: 400 }); }, { sleep }).catch(() => {});
    expect(m).toBe(1);
  });

  it('fails instead of waiting when retry-after exceeds the cap', async () => {
    const err = await withRetry(async () => { throw new TeacherError('http', 'slow down', { status: 429, retryable: true, retryAfterMs: 120_000 }); }, { maxDelayMs: 60_000 }).catch((e) => e);
    expect(err.message).toMatch(/asks to wait 120 s/);
  });

  it('stops waiting when cancelled', async () => {
    const ac = new AbortController();
    const p = withRetry(async () => { throw new TeacherError('http', 'x', { status: 500, retryable: true, retryAfterMs: 10_000 }); }, { signal: ac.signal }).catch((e) => e);
    setTimeout(() => ac.abort(), 20);
    expect((await p).kind).toBe('aborted');
  });
});

describe('limiter', () => {
  it('never runs more than the limit at once, and all tasks finish in order of start', async () => {
    const lim = createLimiter(2);
    let running = 0, peak = 0;
    const started: number[] = [];
    const tasks = Array.from({ length: 7 }, (_, i) => lim.run(async () => {
      started.push(i); running++; peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5 + (i % 3)));
      running--;
      return i * 10;
    }));
    expect(await Promise.all(tasks)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a failing task frees its slot', async () => {
    const lim = createLimiter(1);
    const a = lim.run(async () => { throw new Error('boom'); }).catch((e) => e.message);
    const b = lim.run(async () => 'ok');
    expect(await a).toBe('boom');
    expect(await b).toBe('ok');
  });
});

describe('pricing', () => {
  it('matches exact ids and the longest prefix', () => {
    expect(findPrice('gpt-4o-mini-2024-07-18')!.model).toBe('gpt-4o-mini');
    expect(findPrice('gpt-4o-2024-08-06')!.model).toBe('gpt-4o');
    expect(findPrice('unknown-model')).toBeUndefined();
    expect(costOf('claude-sonnet-4-20250514', { inputTokens: 1_000_000, outputTokens: 100_000 })).toBeCloseTo(3 + 1.5, 9);
    expect(costOf('mystery', { inputTokens: 1, outputTokens: 1 })).toBeUndefined();
  });
  it('parses the editable table and names bad lines', () => {
    const { prices, errors } = parsePriceTable('# comment\nmy-model 1 2\nbroken 1\nneg -1 2');
    expect(prices).toEqual([{ model: 'my-model', inputPerMTok: 1, outputPerMTok: 2 }]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/line 3/);
    expect(parsePriceTable(formatPriceTable(DEFAULT_PRICES)).prices).toEqual(DEFAULT_PRICES);
  });
});

describe('scrubSecrets', () => {
  it('removes the key and key-shaped strings', () => {
    expect(scrubSecrets('key=abc the secret SECRET123 here', ['SECRET123'])).toBe('key=abc the secret [redacted] here');
    expect(scrubSecrets('Authorization: Bearer abcdefghijkl')).toBe('Authorization: Bearer [redacted]');
    expect(scrubSecrets('got sk-proj-AbCdEf0123456789')).toBe('got [redacted]');
    expect(scrubSecrets('http://h/v1?api_key=zzzz&x=1')).toBe('http://h/v1?api_key=[redacted]&x=1');
  });
});

describe('SSE parser', () => {
  const streamOf = (parts: string[]) => new ReadableStream<Uint8Array>({
    start(c) { for (const p of parts) c.enqueue(new TextEncoder().encode(p)); c.close(); },
  });
  it('handles split chunks, CRLF, comments, multi-line data and event names', async () => {
    const evs = [];
    for await (const e of readSse(streamOf([': hi\n\nevent: a\nda', 'ta: 1\r', '\ndata: 2\r\n\r\n', 'data: x\n\ndata: last']))) evs.push(e);
    expect(evs).toEqual([{ event: 'a', data: '1\n2' }, { event: 'message', data: 'x' }, { event: 'message', data: 'last' }]);
  });
  it('splits a multi-byte character across chunks correctly', async () => {
    const bytes = new TextEncoder().encode('data: π≈3\n\n');
    const s = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(bytes.slice(0, 7)); c.enqueue(bytes.slice(7)); c.close(); } });
    const evs = [];
    for await (const e of readSse(s)) evs.push(e.data);
    expect(evs).toEqual(['π≈3']);
  });
});
