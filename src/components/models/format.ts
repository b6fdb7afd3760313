// Number formatting for the Models panel.
export { formatBytes } from '../../engine/model/memory.ts';

/** 135_000_000 -> "135.0M", 296_000 -> "0.30M". */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`;
}

export const PHASE_LABEL: Record<string, string> = {
  download: 'Downloading',
  convert: 'Converting to f16',
  upload: 'Uploading to the GPU',
  tokenizer: 'Reading the tokenizer',
  done: 'Done',
};
