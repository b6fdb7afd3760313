// The adapters committed beside the bundled student (models/tiny-world/adapters/<dir>/, PEFT files,
// written by `npm run experiment:tiny`): offered in the Playground and Evaluate from the first open.
export interface BundledAdapter { dir: string; label: string }

export const BUNDLED_ADAPTERS: readonly BundledAdapter[] = [
  { dir: 'reason1k', label: 'Reason1K adapter (bundled)' },
];

/** The files of a bundled adapter under the app's base URL. */
export function bundledAdapterUrls(base: string, a: BundledAdapter): { config: string; weights: string } {
  const root = new URL(`models/tiny-world/adapters/${a.dir}/`, base).href;
  return { config: `${root}adapter_config.json`, weights: `${root}adapter_model.safetensors` };
}
