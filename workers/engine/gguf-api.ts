// Engine-worker module for "Export GGUF" (Train view): the loaded student's base weights read back
// from the GPU (packed f16; a quantized base's blocks dequantized to f16), the adapter trained in this session merged into
// them on the CPU (src/engine/adapter/gguf-export.ts), written as one GGUF file that llama.cpp,
// Ollama and LM Studio load. Runs here, never on the main thread.
import * as Comlink from 'comlink';
import { exportGgufParts } from '../../src/engine/adapter/gguf-export.ts';
import { restoreBase } from '../../src/engine/adapter/merge.ts';
import { expectedTensors } from '../../src/engine/model/weights.ts';
import { readBack } from '../../src/engine/runtime/buffers.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';
import { packF32AsF16 } from '../../src/engine/model/f16.ts';
import { dequantizeMatrix, quantBytes } from '../../src/engine/model/quant.ts';
import { gpuContext } from './device-api.ts';
import { currentModel } from './model-api.ts';
import { trainedLora } from './train-api.ts';

export const ggufApi = {
  /** The loaded model (merged with this session's trained adapter when `withAdapter`) as GGUF bytes. */
  async exportGguf(withAdapter: boolean): Promise<{ bytes: Uint8Array; name: string }> {
    const m = currentModel();
    if (!m) throw new Error('no model loaded: load the student in Models / Device first');
    if (!m.hfFiles) throw new Error(`${m.id}: its config.json was not kept at load; load the model again to export it`);
    const t = trainedLora();
    const adapter = withAdapter ? (t && t.modelId === m.id ? t.adapter : undefined) : undefined;
    if (withAdapter && !adapter) throw new Error('no adapter trained on the loaded model in this session: train one first, or export the base');
    const { device } = await gpuContext();
    restoreBase(device, m.decoder); // read the base weights, not a merged adapter
    const tensors: HostTensor[] = [];
    for (const s of expectedTensors(m.config)) {
      const w = m.decoder.weight(s.name);
      if (!w) continue; // optional tensors the model does not have
      const n = w.shape.reduce((a, b) => a * b, 1);
      const packed = new Uint32Array(Math.ceil(n / 2));
      const cols = w.shape.length === 1 ? w.shape[0] : w.shape.slice(1).reduce((a, b) => a * b, 1);
      if (w.format !== 'f16') { // a quantized base (QLoRA): its blocks dequantized, written as f16
        const fmt = w.format;
        for (const ch of w.chunks) {
          const words = new Uint32Array(await readBack(device, ch.buffer, quantBytes(fmt, ch.rows, cols)));
          packed.set(packF32AsF16(dequantizeMatrix(fmt, words, ch.rows, cols)), (ch.r0 * cols) / 2);
        }
        tensors.push({ name: s.name, shape: w.shape, packed });
        continue;
      }
      for (const ch of w.chunks) {
        const w0 = (ch.r0 * cols) / 2;
        const w1 = Math.ceil(((ch.r0 + ch.rows) * cols) / 2);
        packed.set(new Uint32Array(await readBack(device, ch.buffer, (w1 - w0) * 4)), w0);
      }
      tensors.push({ name: s.name, shape: w.shape, packed });
    }
    const f = m.hfFiles;
    const name = m.id.split('/').filter(Boolean).pop() ?? 'model';
    const parts = exportGgufParts({
      config: JSON.parse(f.config) as Record<string, unknown>,
      tokenizer: JSON.parse(f.tokenizerJson) as Record<string, unknown>,
      tokenizerConfig: f.tokenizerConfig ? JSON.parse(f.tokenizerConfig) as Record<string, unknown> : undefined,
      name,
    }, tensors, adapter);
    const bytes = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let o = 0;
    for (const p of parts) { bytes.set(p, o); o += p.byteLength; }
    return Comlink.transfer({ bytes, name: `${name}${adapter ? '-merged' : ''}-f16.gguf` }, [bytes.buffer]);
  },
};
