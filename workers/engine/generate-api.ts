// Engine worker: plain generation with the loaded model (workers/engine/model-api.ts), streaming
// each token with its text, top-k log-probs and entropy; cancellable between tokens.
import { type CancelFlag, type GenerateRequest, type GenerateResult, type StreamedToken, generate as runGenerate } from '../../src/engine/generation/generate.ts';
import { selectedAdapterSha, withAdapter } from './adapter-api.ts';
import { currentModel } from './model-api.ts';

export type { GenerateRequest, GenerateResult, StreamedToken } from '../../src/engine/generation/generate.ts';

let active: CancelFlag | undefined;

export const generateApi = {
  /**
   * Generates from `request.messages` (chat template) or `request.prompt`. `onToken` must be a
   * Comlink.proxy from the UI; it is called once per token (not awaited: the GPU keeps going).
   */
  async generate(request: GenerateRequest, onToken?: (t: StreamedToken) => void): Promise<GenerateResult> {
    const m = currentModel();
    if (!m) throw new Error('No model is loaded in the engine: load one in the Models view first.');
    if (active) throw new Error('A generation is already running; stop it first');
    const flag: CancelFlag = { cancelled: false };
    active = flag;
    try {
      // the adapter chosen with useAdapter() (none: base weights) is merged for this generation
      return await withAdapter(await selectedAdapterSha(), () => runGenerate(
        { tokenizer: m.tokenizer, newSession: (n) => m.decoder.newSession(n), maxContext: m.contextLength, eosTokenIds: m.eosTokenIds },
        request,
        (t) => { if (onToken) void Promise.resolve(onToken(t)).catch(() => {}); },
        flag,
      ));
    } finally {
      if (active === flag) active = undefined;
    }
  },

  /** Stops the running generation after the current token (it resolves with stopReason 'cancelled'). */
  cancelGenerate(): void {
    if (active) active.cancelled = true;
  },
};
