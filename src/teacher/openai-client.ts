// OpenAI-compatible chat completions (OpenAI, OpenRouter, vLLM, llama.cpp server, ...), streamed
// with server-sent events or not; per-token logprobs/top_logprobs captured where returned.
import { TeacherError, toTeacherError } from './errors.ts';
import { joinUrl, parseJson, postJson } from './http.ts';
import { readSse } from './sse.ts';
import type { ChatPrompt, ClientOptions, Completion, TeacherClient, TokenLogprob } from './types.ts';
import type { TeacherConfig } from '../domain/teacher.ts';

interface OaLogprobItem { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] }
interface OaChoice {
  delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null };
  message?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null };
  logprobs?: { content?: OaLogprobItem[] | null } | null;
  finish_reason?: string | null;
}
interface OaChunk {
  model?: string;
  choices?: OaChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

export function openAiRequest(cfg: TeacherConfig, prompt: ChatPrompt): Record<string, unknown> {
  const stream = cfg.stream ?? true;
  const body: Record<string, unknown> = {
    model: cfg.model,
    messages: [
      ...(prompt.system ? [{ role: 'system', content: prompt.system }] : []),
      { role: 'user', content: prompt.user },
    ],
    stream,
  };
  // OpenAI's reasoning models (o1/o3/o4, gpt-5) refuse max_tokens and a non-default temperature.
  const reasoningModel = /^(?:openai\/)?(?:o\d|gpt-5)/.test(cfg.model);
  if (reasoningModel) body.max_completion_tokens = cfg.maxTokens;
  else body.max_tokens = cfg.maxTokens;
  if (stream) body.stream_options = { include_usage: true };
  if (cfg.temperature !== undefined && !reasoningModel) body.temperature = cfg.temperature;
  if (cfg.topLogprobs && cfg.topLogprobs > 0) {
    body.logprobs = true;
    body.top_logprobs = Math.min(20, cfg.topLogprobs);
  }
  return body;
}

function toLogprobs(items: OaLogprobItem[] | null | undefined, out: TokenLogprob[]): void {
  for (const it of items ?? []) {
    out.push({ token: it.token, logprob: it.logprob, top: (it.top_logprobs ?? []).map((t) => ({ token: t.token, logprob: t.logprob })) });
  }
}

export function createOpenAiClient(cfg: TeacherConfig, opts: ClientOptions): TeacherClient {
  const secrets = [opts.apiKey];
  const what = `${cfg.model} (OpenAI-compatible)`;
  return {
    async complete(prompt: ChatPrompt, signal?: AbortSignal): Promise<Completion> {
      const url = joinUrl(cfg.baseUrl, 'chat/completions');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
      const body = openAiRequest(cfg, prompt);
      const res = await postJson(url, headers, body, { secrets, signal, fetchImpl: opts.fetchImpl, what });
      let text = '';
      let thinking = '';
      const logprobs: TokenLogprob[] = [];
      let finishReason = '';
      let model = cfg.model;
      let usage = { inputTokens: 0, outputTokens: 0 };
      let sawUsage = false;
      try {
        if (!body.stream || !res.body) {
          const j = parseJson<OaChunk>(await res.text(), what, secrets);
          const c = j.choices?.[0];
          if (!c?.message) throw new TeacherError('parse', `${what}: the response has no choices[0].message.`, { retryable: true, secrets });
          text = c.message.content ?? '';
          thinking = c.message.reasoning_content ?? c.message.reasoning ?? '';
          toLogprobs(c.logprobs?.content, logprobs);
          finishReason = c.finish_reason ?? '';
          model = j.model ?? model;
          if (j.usage) { usage = { inputTokens: j.usage.prompt_tokens ?? 0, outputTokens: j.usage.completion_tokens ?? 0 }; sawUsage = true; }
        } else {
          let done = false;
          for await (const ev of readSse(res.body, signal)) {
            if (ev.data.trim() === '[DONE]') { done = true; break; }
            const j = parseJson<OaChunk>(ev.data, what, secrets);
            if (j.error) throw new TeacherError('http', `${what}: error in stream: ${j.error.message ?? 'unknown'}`, { retryable: true, secrets });
            if (j.model) model = j.model;
            for (const c of j.choices ?? []) {
              text += c.delta?.content ?? '';
              thinking += c.delta?.reasoning_content ?? c.delta?.reasoning ?? '';
              toLogprobs(c.logprobs?.content, logprobs);
              if (c.finish_reason) finishReason = c.finish_reason;
            }
            if (j.usage) { usage = { inputTokens: j.usage.prompt_tokens ?? 0, outputTokens: j.usage.completion_tokens ?? 0 }; sawUsage = true; }
          }
          if (signal?.aborted) throw new TeacherError('aborted', 'Cancelled.');
          if (!done && !finishReason) {
            throw new TeacherError('network', `${what}: the stream ended before the completion finished (connection dropped).`, { retryable: true, secrets });
          }
        }
      } catch (e) {
        throw toTeacherError(e, secrets, signal);
      }
      // Servers without usage reporting: estimate output tokens from logprobs, else ~4 chars/token.
      if (!sawUsage) usage = { inputTokens: Math.ceil(((prompt.system ?? '').length + prompt.user.length) / 4), outputTokens: logprobs.length || Math.ceil((text.length + thinking.length) / 4) };
      return { text, thinking: thinking || undefined, logprobs: logprobs.length ? logprobs : undefined, usage, finishReason, model };
    },
  };
}
