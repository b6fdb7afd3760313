// Retries with exponential backoff and jitter for 429 / 5xx / dropped connections, honouring
// the server's retry-after (delta-seconds or an HTTP date).
import { TeacherError } from './errors.ts';

export interface RetryOptions {
  /** Retries after the first try (default 4). */
  maxRetries?: number;
  /** First backoff step in ms (default 1000); doubles each retry. */
  baseDelayMs?: number;
  /** Cap of one wait in ms (default 60000); a longer retry-after fails instead of waiting. */
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Called before each wait, e.g. for the job's error/progress list. */
  onRetry?: (info: { attempt: number; delayMs: number; error: TeacherError }) => void;
  /** Injectable for tests. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Parse a retry-after header value to ms; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** Backoff for retry number `attempt` (0-based): base * 2^attempt, capped, with "equal jitter"
 *  (half fixed, half random) so that parallel callers spread out. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.round(exp / 2 + random() * (exp / 2));
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TeacherError('aborted', 'Cancelled.'));
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(new TeacherError('aborted', 'Cancelled.')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const maxRetries = opts.maxRetries ?? 4;
  const base = opts.baseDelayMs ?? 1000;
  const cap = opts.maxDelayMs ?? 60_000;
  const sleep = opts.sleep ?? abortableSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof TeacherError) || !e.retryable || attempt >= maxRetries || opts.signal?.aborted) throw e;
      let delayMs: number;
      if (e.retryAfterMs !== undefined) {
        if (e.retryAfterMs > cap) {
          throw new TeacherError(e.kind, `${e.message} (the server asks to wait ${Math.round(e.retryAfterMs / 1000)} s, more than the ${Math.round(cap / 1000)} s limit)`, { status: e.status });
        }
        delayMs = e.retryAfterMs;
      } else {
        delayMs = backoffDelay(attempt, base, cap, opts.random);
      }
      opts.onRetry?.({ attempt: attempt + 1, delayMs, error: e });
      await sleep(delayMs, opts.signal);
    }
  }
}
