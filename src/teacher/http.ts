// One POST with clear, key-free errors; shared by both clients.
import { TeacherError, describeErrorBody, toTeacherError } from './errors.ts';
import { parseRetryAfter } from './retry.ts';

/** Join a base URL and a path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

/** A URL safe to show: no query string, no user:password. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export async function postJson(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  opts: { secrets: readonly string[]; signal?: AbortSignal; fetchImpl?: typeof fetch; what: string },
): Promise<Response> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TeacherError('config', `${opts.what}: the base URL "${url}" is not a valid URL.`, { secrets: opts.secrets });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TeacherError('config', `${opts.what}: the base URL must start with http:// or https://.`, { secrets: opts.secrets });
  }
  const f = opts.fetchImpl ?? globalThis.fetch.bind(globalThis);
  let res: Response;
  try {
    res = await f(url, { method: 'POST', headers, body: JSON.stringify(body), signal: opts.signal });
  } catch (e) {
    const err = toTeacherError(e, opts.secrets, opts.signal);
    if (err.kind === 'network') {
      throw new TeacherError('network', `${opts.what}: could not reach ${displayUrl(url)} (${err.message.replace(/^Network error: /, '')}). Check the base URL, your connection, and that the server allows requests from this page (CORS).`, { retryable: true, secrets: opts.secrets });
    }
    throw err;
  }
  if (!res.ok) {
    let text = '';
    try { text = await res.text(); } catch { /* body lost */ }
    const status = res.status;
    const retryable = status === 429 || status === 408 || status >= 500;
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    const hint = status === 401 || status === 403 ? ' Check the API key.' : status === 404 ? ' Check the base URL and model name.' : status === 429 ? ' Rate limited.' : '';
    const detail = describeErrorBody(text).trim() || res.statusText || '(no details)';
    throw new TeacherError('http', `${opts.what}: HTTP ${status} from ${displayUrl(url)}: ${detail}${hint && !/[.!?]$/.test(detail) ? '.' : ''}${hint}`, { status, retryable, retryAfterMs, secrets: opts.secrets });
  }
  return res;
}

/** JSON.parse with a key-free, clear error (retryable: a garbled response is usually transient). */
export function parseJson<T>(text: string, what: string, secrets: readonly string[]): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TeacherError('parse', `${what}: the server sent malformed JSON: ${text.slice(0, 120)}`, { retryable: true, secrets });
  }
}
