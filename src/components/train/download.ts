// The trained adapter's PEFT files as one zip download (adapter_config.json + adapter_model.safetensors).
import { strToU8, zipSync } from 'fflate';

export const PEFT_FILES = { config: 'adapter_config.json', weights: 'adapter_model.safetensors' } as const;

/** Zip bytes holding the two PEFT files (stored: safetensors floats barely compress). */
export function peftZip(adapterConfig: string, safetensors: Uint8Array): Uint8Array {
  return zipSync({ [PEFT_FILES.config]: strToU8(adapterConfig), [PEFT_FILES.weights]: [safetensors, { level: 0 }] });
}

/** Starts a browser download of `bytes` as `name`. */
export function downloadBytes(name: string, bytes: Uint8Array, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
