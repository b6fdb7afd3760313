// Anthropic Messages API from the browser (anthropic-dangerous-direct-browser-access), streamed
// (message_start / content_block_* / message_delta / message_stop) or not; thinking blocks kept.
import { TeacherError, toTeacherError } from './errors.ts';
import { joinUrl, parseJson, postJson } from './http.ts';
import { readSse } from './sse.ts';
import type { ChatPrompt, ClientOptions, Completion, TeacherClient } from './types.ts';
import type { TeacherConfig } from '../domain/teacher.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

interface AnUsage { input_tokens?: number; output_tokens?: number }
interface AnBlock { type: string; text?: string; thinking?: string }
interface AnEvent {
  type: string;
  message?: { model?: string; usage?: AnUsage; content?: AnBlock[]; stop_reason?: string | null };
  index?: number;
  content_block?: AnBlock;
  delta?: { type?: string; text?: string; thinking?: string; stop_reason?: string | null };
  usage?: AnUsage;
  error?: { type?: string; message?: string };
}
interface AnMessage { model?: string; content?: AnBlock[]; stop_reason?: string | null; usage?: AnUsage; type?: string; error?: { message?: string } }

export function messagesUrl(baseUrl: string): string {
  return /\/v1\/?$/.test(baseUrl) ? joinUrl(baseUrl, 'messages') : joinUrl(baseUrl, 'v1/messages');
}

export function anthropicRequest(cfg: TeacherConfig, prompt: ChatPrompt): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: cfg.model,
    max_tokens: cfg.maxTokens,
    messages: [{ role: 'user', content: prompt.user }],
    stream: cfg.stream ?? true,
  };
  if (prompt.system) body.system = prompt.system;
  if (cfg.thinkingBudget && cfg.thinkingBudget > 0) {
    body.thinking = { type: 'enabled', budget_tokens: cfg.thinkingBudget };
  } else if (cfg.temperature !== undefined) {
    body.temperature = cfg.temperature; // the API rejects temperature together with thinking
  }
  return body;
}

export function createAnthropicClient(cfg: TeacherConfig, opts: ClientOptions): TeacherClient {
  const secrets = [opts.apiKey];
  const what = `${cfg.model} (Anthropic)`;
  return {
    async complete(prompt: ChatPrompt, signal?: AbortSignal): Promise<Completion> {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-api-key': opts.apiKey,
        'anthropic-version': ANTHROPIC_VERSION,
        'anthropic-dangerous-direct-browser-access': 'true',
      };
      const body = anthropicRequest(cfg, prompt);
      const res = await postJson(messagesUrl(cfg.baseUrl), headers, body, { secrets, signal, fetchImpl: opts.fetchImpl, what });
      let text = '';
      let thinking = '';
      let finishReason = '';
      let model = cfg.model;
      const usage = { inputTokens: 0, outputTokens: 0 };
      try {
        if (!body.stream || !res.body) {
          const m = parseJson<AnMessage>(await res.text(), what, secrets);
          if (m.type === 'error') throw new TeacherError('http', `${what}: ${m.error?.message ?? 'error'}`, { retryable: true, secrets });
          for (const b of m.content ?? []) {
            if (b.type === 'text') text += b.text ?? '';
            else if (b.type === 'thinking') thinking += b.thinking ?? '';
          }
          finishReason = m.stop_reason ?? '';
          model = m.model ?? model;
          usage.inputTokens = m.usage?.input_tokens ?? 0;
          usage.outputTokens = m.usage?.output_tokens ?? 0;
        } else {
          let stopped = false;
          for await (const ev of readSse(res.body, signal)) {
            const e = parseJson<AnEvent>(ev.data, what, secrets);
            const type = e.type ?? ev.event;
            if (type === 'message_start') {
              model = e.message?.model ?? model;
              usage.inputTokens = e.message?.usage?.input_tokens ?? 0;
              usage.outputTokens = e.message?.usage?.output_tokens ?? 0;
            } else if (type === 'content_block_start') {
              if (e.content_block?.type === 'text') text += e.content_block.text ?? '';
              else if (e.content_block?.type === 'thinking') thinking += e.content_block.thinking ?? '';
            } else if (type === 'content_block_delta') {
              if (e.delta?.type === 'text_delta') text += e.delta.text ?? '';
              else if (e.delta?.type === 'thinking_delta') thinking += e.delta.thinking ?? '';
            } else if (type === 'message_delta') {
              if (e.delta?.stop_reason) finishReason = e.delta.stop_reason;
              if (e.usage?.output_tokens !== undefined) usage.outputTokens = e.usage.output_tokens;
              if (e.usage?.input_tokens) usage.inputTokens = e.usage.input_tokens;
            } else if (type === 'message_stop') {
              stopped = true;
              break;
            } else if (type === 'error') {
              const overloaded = e.error?.type === 'overloaded_error' || e.error?.type === 'api_error';
              throw new TeacherError('http', `${what}: error in stream: ${e.error?.type ?? ''} ${e.error?.message ?? ''}`.trim(), { retryable: overloaded, secrets });
            }
            // ping, content_block_stop: nothing to do
          }
          if (signal?.aborted) throw new TeacherError('aborted', 'Cancelled.');
          if (!stopped) throw new TeacherError('network', `${what}: the stream ended before message_stop (connection dropped).`, { retryable: true, secrets });
        }
      } catch (e) {
        throw toTeacherError(e, secrets, signal);
      }
      return { text, thinking: thinking || undefined, usage, finishReason, model };
    },
  };
}
