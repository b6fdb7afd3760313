// Pick the client for a teacher config.
import { createAnthropicClient } from './anthropic-client.ts';
import { createOpenAiClient } from './openai-client.ts';
import type { ClientOptions, TeacherClient } from './types.ts';
import type { TeacherConfig } from '../domain/teacher.ts';

export function createTeacherClient(cfg: TeacherConfig, opts: ClientOptions): TeacherClient {
  return cfg.provider === 'anthropic' ? createAnthropicClient(cfg, opts) : createOpenAiClient(cfg, opts);
}

/** The name a trace carries: provider/model, e.g. "anthropic/claude-sonnet-4". */
export function teacherName(cfg: TeacherConfig): string {
  return `${cfg.provider}/${cfg.model}`;
}
