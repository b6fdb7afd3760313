// A real HTTP server on 127.0.0.1 (port 0) that speaks the OpenAI chat-completions and the
// Anthropic Messages wire formats, streaming (SSE) or not, with per-token logprobs, CORS for a
// page on another origin, and scripted faults per request. Used by the unit and e2e tests.
//
//   const srv = await startFakeLlmServer({ answers: { 'What is 2+3?': '5' } });
//   openai base URL: `${srv.url}/v1`   anthropic base URL: srv.url
//   srv.script({ kind: 'status', status: 429, retryAfter: '1' });  // next request gets this
//   srv.requests  // every request: method, path, headers, body
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** 200 whose JSON (non-stream) or first SSE data line is garbled. */
  | { kind: 'malformed' }
  /** Stream `afterChunks` content chunks, then destroy the socket. */
  | { kind: 'drop'; afterChunks: number }
  /** Stream with this delay before each chunk. */
  | { kind: 'slow'; delayMs: number }
  /** An error (401 unless given) whose body echoes the API key the client sent (to test scrubbing). */
  | { kind: 'echo-key'; status?: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  fault?: Fault['kind'];
}

export interface FakeLlmOptions {
  /** Problem text (substring of the user message) -> final answer the fake teacher gives. */
  answers?: Record<string, string>;
  /** Delay before each streamed chunk, in ms (default 0). */
  chunkDelayMs?: number;
  /** Anthropic responses include a thinking block (default true). */
  thinking?: boolean;
  /** Refuse requests without a key, as hosted APIs do (default true; a local server needs none). */
  requireKey?: boolean;
}

export interface FakeLlmServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Queue faults: each request (CORS preflights excluded) takes the next one; then normal answers. */
  script(...faults: Fault[]): void;
  setChunkDelay(ms: number): void;
  setRequireKey(on: boolean): void;
  setAnswers(answers: Record<string, string>): void;
  /** Completed (fully sent) responses, by problem. */
  completed: string[];
  close(): Promise<void>;
}

const CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access, anthropic-beta',
  'access-control-expose-headers': 'retry-after',
  'access-control-max-age': '600',
};

/** The fake teacher's reply: plan, steps, boxed answer, in the tags the prompt template asks for. */
export function fakeReply(problem: string, answer: string): string {
  const short = problem.replace(/\s+/g, ' ').slice(0, 60);
  return `<plan>Identify what "${short}" asks, then compute it directly.</plan>\n` +
    `<step>Read the quantities in the problem.</step>\n` +
    `<step>Combine them to get ${answer}.</step>\n` +
    `<answer>\\boxed{${answer}}</answer>`;
}

/** Split text into small "tokens" (word pieces with their leading space). */
export function fakeTokens(text: string): string[] {
  return text.match(/\s*\S{1,6}|\s+/g) ?? [];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeLlmServer(opts: FakeLlmOptions = {}): Promise<FakeLlmServer> {
  const faults: Fault[] = [];
  const requests: RecordedRequest[] = [];
  const completed: string[] = [];
  let answers = { ...(opts.answers ?? {}) };
  let chunkDelay = opts.chunkDelayMs ?? 0;
  let requireKey = opts.requireKey ?? true;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer(async (req, res) => {
    if (req.method === 'OPTIONS') {
      requests.push({ method: 'OPTIONS', path: (req.url ?? '/').split('?')[0], headers: req.headers, body: undefined });
      res.writeHead(204, CORS).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: any = undefined;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { body = Buffer.concat(chunks).toString('utf8'); }
    const path = (req.url ?? '/').split('?')[0];
    const fault = faults.shift();
    requests.push({ method: req.method ?? '', path, headers: req.headers, body, fault: fault?.kind });
    const json = (status: number, obj: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...CORS, 'content-type': 'application/json', ...extra }).end(JSON.stringify(obj));
    };

    const isOpenAi = path.endsWith('/chat/completions');
    const isAnthropic = path.endsWith('/messages');
    if (req.method !== 'POST' || (!isOpenAi && !isAnthropic)) return json(404, { error: { message: `no route ${req.method} ${path}` } });
    if (fault?.kind === 'status') {
      const extra: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
      return json(fault.status, fault.body !== undefined ? JSON.parse(fault.body) : { error: { type: fault.status === 429 ? 'rate_limit_error' : 'api_error', message: `scripted ${fault.status}` } }, extra);
    }
    if (fault?.kind === 'echo-key') {
      const key = String(req.headers['x-api-key'] ?? req.headers.authorization ?? '');
      return json(fault.status ?? 401, { error: { type: 'authentication_error', message: `invalid key: ${key}` } });
    }
    if (isAnthropic && requireKey && (!req.headers['x-api-key'] || req.headers['anthropic-version'] == null)) {
      return json(401, { type: 'error', error: { type: 'authentication_error', message: 'x-api-key and anthropic-version are required' } });
    }
    if (isOpenAi && requireKey && !String(req.headers.authorization ?? '').startsWith('Bearer ')) {
      return json(401, { error: { message: 'missing bearer token' } });
    }

    const messages: { role: string; content: string }[] = body?.messages ?? [];
    const user = String(messages.filter((m) => m.role === 'user').at(-1)?.content ?? '');
    const problemKey = Object.keys(answers).find((k) => user.includes(k));
    const answer = problemKey ? answers[problemKey] : '42';
    const text = fakeReply(problemKey ?? user.slice(0, 60), answer);
    const toks = fakeTokens(text);
    const promptTokens = Math.ceil(JSON.stringify(messages).length / 4);
    const model = String(body?.model ?? 'fake');
    const stream = body?.stream === true;
    const delay = fault?.kind === 'slow' ? fault.delayMs : chunkDelay;
    const dropAfter = fault?.kind === 'drop' ? fault.afterChunks : Infinity;
    const k = Number(body?.top_logprobs ?? 0);
    const wantLp = isOpenAi && body?.logprobs === true;
    const lp = (t: string, i: number) => ({
      token: t,
      logprob: -0.01 * (i % 7),
      top_logprobs: Array.from({ length: k }, (_, j) => ({ token: j === 0 ? t : `${t}~${j}`, logprob: j === 0 ? -0.01 * (i % 7) : -1 - j })),
    });
    const thinkingText = 'Let me think about this carefully.';

    if (!stream) {
      if (fault?.kind === 'malformed') {
        res.writeHead(200, { ...CORS, 'content-type': 'application/json' }).end('{"choices": [ {"message": ');
        return;
      }
      if (isOpenAi) {
        json(200, {
          id: 'chatcmpl-fake', object: 'chat.completion', model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: wantLp ? { content: toks.map(lp) } : null }],
          usage: { prompt_tokens: promptTokens, completion_tokens: toks.length, total_tokens: promptTokens + toks.length },
        });
      } else {
        const content = [...(opts.thinking !== false ? [{ type: 'thinking', thinking: thinkingText, signature: 'sig' }] : []), { type: 'text', text }];
        json(200, { id: 'msg_fake', type: 'message', role: 'assistant', model, content, stop_reason: 'end_turn', usage: { input_tokens: promptTokens, output_tokens: toks.length } });
      }
      completed.push(problemKey ?? user);
      return;
    }

    res.writeHead(200, { ...CORS, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (s: string) => new Promise<void>((r) => res.write(s, () => r()));
    let closed = false;
    res.on('close', () => { closed = true; });
    if (fault?.kind === 'malformed') {
      await send('data: {"choices": [{"delta": {"content": "par\n\n');
      res.end();
      return;
    }
    if (isOpenAi) {
      await send(`: fake server keep-alive comment\n\n`);
      await send(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`);
      for (let i = 0; i < toks.length; i++) {
        if (closed) return;
        if (i === dropAfter) { res.socket?.destroy(); return; }
        if (delay) await sleep(delay);
        const choice: any = { index: 0, delta: { content: toks[i] }, finish_reason: null };
        if (wantLp) choice.logprobs = { content: [lp(toks[i], i)] };
        // CRLF line ends on odd chunks: clients must accept both.
        await send(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model, choices: [choice] })}${i % 2 ? '\r\n\r\n' : '\n\n'}`);
      }
      await send(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      await send(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: toks.length, total_tokens: promptTokens + toks.length } })}\n\n`);
      await send('data: [DONE]\n\n');
    } else {
      const ev = (type: string, data: object) => send(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      await ev('message_start', { message: { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: promptTokens, output_tokens: 1 } } });
      await ev('ping', {});
      let idx = 0;
      if (opts.thinking !== false) {
        await ev('content_block_start', { index: idx, content_block: { type: 'thinking', thinking: '' } });
        await ev('content_block_delta', { index: idx, delta: { type: 'thinking_delta', thinking: thinkingText } });
        await ev('content_block_delta', { index: idx, delta: { type: 'signature_delta', signature: 'sig' } });
        await ev('content_block_stop', { index: idx });
        idx++;
      }
      await ev('content_block_start', { index: idx, content_block: { type: 'text', text: '' } });
      for (let i = 0; i < toks.length; i++) {
        if (closed) return;
        if (i === dropAfter) { res.socket?.destroy(); return; }
        if (delay) await sleep(delay);
        await ev('content_block_delta', { index: idx, delta: { type: 'text_delta', text: toks[i] } });
      }
      await ev('content_block_stop', { index: idx });
      await ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: toks.length } });
      await ev('message_stop', {});
    }
    res.end();
    completed.push(problemKey ?? user);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    completed,
    script: (...f: Fault[]) => { faults.push(...f); },
    setChunkDelay: (ms: number) => { chunkDelay = ms; },
    setRequireKey: (on: boolean) => { requireKey = on; },
    setAnswers: (a: Record<string, string>) => { answers = { ...a }; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
