// The trained adapter's PEFT files as one zip (adapter_config.json + adapter_model.safetensors).
import { strToU8, zipSync } from 'fflate';

export const PEFT_FILES = { config: 'adapter_config.json', weights: 'adapter_model.safetensors' } as const;

/** Zip bytes holding the two PEFT files (stored: safetensors floats barely compress). */
export function peftZip(adapterConfig: string, safetensors: Uint8Array): Uint8Array {
  return zipSync({ [PEFT_FILES.config]: strToU8(adapterConfig), [PEFT_FILES.weights]: [safetensors, { level: 0 }] });
}

