// Number formatting for the Models panel.
export { formatBytes } from '../../lib/bytes.ts';

/** 135_000_000 -> "135.0M", 296_000 -> "0.30M". */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`;
}

export const PHASE_LABEL: Record<string, string> = {
  tokenizer: 'Reading the tokenizer',
  probe: 'Checking the weight files',
  download: 'Downloading',
  convert: 'Converting to f16 and uploading to the GPU',
  upload: 'Uploading to the GPU',
  warmup: 'Warming up (one token through every layer)',
  done: 'Done',
};

/** "1 layer", "24 layers". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
