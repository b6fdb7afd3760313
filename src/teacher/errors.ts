// Errors from teacher calls. Every message passes through scrubSecrets so that an API key can
// never reach the UI, a log, an export or a stored job record.

export type TeacherErrorKind = 'http' | 'network' | 'parse' | 'aborted' | 'config';

const REDACTED = '[redacted]';

// Key shapes worth removing even when we were not told the exact key (a key echoed by a proxy,
// a key typed into the base URL).
const KEY_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_\-]{8,}/g, // OpenAI, Anthropic (sk-ant-...), OpenRouter (sk-or-...), DeepSeek
  /\bBearer\s+[A-Za-z0-9._\-~+/=]{8,}/gi,
  /([?&](?:key|api_key|apikey|access_token|token)=)[^&#\s]+/gi,
];

/** Remove every given secret (and anything shaped like an API key) from a string. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = String(text);
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join(REDACTED);
  }
  out = out.replace(KEY_PATTERNS[0], REDACTED);
  out = out.replace(KEY_PATTERNS[1], 'Bearer ' + REDACTED);
  out = out.replace(KEY_PATTERNS[2], (_m, p: string) => p + REDACTED);
  return out;
}

export class TeacherError extends Error {
  readonly kind: TeacherErrorKind;
  /** HTTP status where there was one. */
  readonly status?: number;
  /** Worth another try (429, 5xx, dropped connection, garbled stream). */
  readonly retryable: boolean;
  /** Server-requested wait (from retry-after), in ms. */
  readonly retryAfterMs?: number;

  constructor(kind: TeacherErrorKind, message: string, opts: { status?: number; retryable?: boolean; retryAfterMs?: number; secrets?: readonly string[] } = {}) {
    super(scrubSecrets(message, opts.secrets));
    this.name = 'TeacherError';
    this.kind = kind;
    this.status = opts.status;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Turn anything thrown into a TeacherError with a scrubbed message. */
export function toTeacherError(e: unknown, secrets: readonly string[], signal?: AbortSignal): TeacherError {
  if (e instanceof TeacherError) return e;
  if (signal?.aborted || (e instanceof Error && e.name === 'AbortError')) return new TeacherError('aborted', 'Cancelled.');
  const msg = e instanceof Error ? e.message + (e.cause instanceof Error ? ` (${e.cause.message})` : '') : String(e);
  return new TeacherError('network', `Network error: ${msg}`, { retryable: true, secrets });
}

/** Read a short excerpt of an error body, as the API's own message where it is JSON. */
export function describeErrorBody(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string; type?: string } | string; message?: string };
    if (typeof j.error === 'string') return j.error;
    if (j.error?.message) return (j.error.type ? j.error.type + ': ' : '') + j.error.message;
    if (j.message) return j.message;
  } catch { /* not JSON */ }
  return body.slice(0, 300);
}
