// Streaming line splitter over bytes: yields one line at a time with its 1-based number, so a
// 200 MB JSONL never sits in memory whole. Each line is decoded on its own with a fatal UTF-8
// decoder, so invalid bytes fail that line only (reported by line), and an over-long line is
// skipped up to its newline and reported instead of growing memory without bound.

export interface Line {
  line: number;
  /** Decoded text, or undefined when `error` says why the line could not be decoded. */
  text?: string;
  error?: string;
  /** Bytes consumed so far (for progress). */
  bytes: number;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  opts: { maxLineBytes?: number; signal?: AbortSignal } = {},
): AsyncGenerator<Line> {
  const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const reader = stream.getReader();
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  let tooLong = false;
  let lineNo = 0;
  let bytes = 0;

  const finish = (): Line => {
    lineNo++;
    if (tooLong) {
      tooLong = false;
      parts = [];
      partBytes = 0;
      return { line: lineNo, error: `line longer than ${max} bytes, skipped`, bytes };
    }
    const buf = parts.length === 1 ? parts[0] : concat(parts, partBytes);
    parts = [];
    partBytes = 0;
    // Strip a trailing \r (CRLF files).
    const end = buf.length > 0 && buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length;
    try {
      return { line: lineNo, text: decoder.decode(buf.subarray(0, end)), bytes };
    } catch {
      return { line: lineNo, error: `invalid UTF-8 at byte ${firstBadUtf8(buf.subarray(0, end))} of the line`, bytes };
    }
  };

  try {
    for (;;) {
      if (opts.signal?.aborted) throw abortError();
      const { done, value } = await reader.read();
      if (done) break;
      let start = 0;
      for (;;) {
        const nl = value.indexOf(10, start);
        const stop = nl < 0 ? value.length : nl;
        if (!tooLong && stop > start) {
          if (partBytes + (stop - start) > max) {
            tooLong = true;
            parts = [];
            partBytes = 0;
          } else {
            parts.push(value.subarray(start, stop));
            partBytes += stop - start;
          }
        }
        if (nl < 0) break;
        bytes += nl + 1 - start;
        start = nl + 1;
        yield finish();
      }
      bytes += value.length - start;
    }
    if (partBytes > 0 || tooLong) yield finish();
  } finally {
    reader.releaseLock();
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Byte offset of the first invalid UTF-8 sequence (best effort, for the error message). */
function firstBadUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return i;
}

export function abortError(): Error {
  const e = new Error('import cancelled');
  e.name = 'AbortError';
  return e;
}
