// Server-sent events over a fetch body (ReadableStream<Uint8Array>): works in a page, a worker
// and Node 20. Yields one {event, data} per blank-line-terminated event, per the WHATWG rules
// (comments ignored, multi-line data joined with "\n", CR/LF/CRLF line ends).

export interface SseEvent {
  event: string;
  data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let event = '';
  let data: string[] = [];
  let finished = false;
  const onAbort = () => { reader.cancel().catch(() => {}); };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) { finished = true; break; }
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = nextLineEnd(buf)) >= 0) {
        let line = buf.slice(0, nl);
        // swallow \r\n as one line end
        buf = buf.slice(buf[nl] === '\r' && buf[nl + 1] === '\n' ? nl + 2 : nl + 1);
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') data.push(val);
        else if (field === 'event') event = val;
        line = '';
      }
    }
    buf += decoder.decode();
    // A final event without its blank line still counts (some servers end that way).
    if (buf.trim()) {
      for (const line of buf.split(/\r\n|\r|\n/)) {
        if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        else if (line.startsWith('event:')) event = line.slice(6).trim();
      }
    }
    if (data.length) yield { event: event || 'message', data: data.join('\n') };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The consumer stopped early (e.g. at [DONE]): close the body so the connection is freed.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function nextLineEnd(s: string): number {
  const n = s.indexOf('\n');
  const r = s.indexOf('\r');
  if (r >= 0 && r === s.length - 1) {
    // A lone trailing CR might be the first half of CRLF: wait for more input unless n is earlier.
    return n >= 0 && n < r ? n : -1;
  }
  if (n < 0) return r;
  if (r < 0) return n;
  return Math.min(n, r);
}
