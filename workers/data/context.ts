// State shared by the data worker's modules: the app's base URL (for bundled files), running jobs
// (for cancel) and the lazily built evaluation-set index.
import { EVAL_SETS, fetchBundled } from '../../src/data/bundled.ts';
import { EvalIndex, evalItemsFromJsonl } from '../../src/selection/eval-index.ts';

let base = '';
const jobs = new Map<string, AbortController>();
const indexes = new Map<number, Promise<EvalIndex>>();

export function setBase(url: string): void {
  base = url;
}

export function baseUrl(): string {
  if (!base) throw new Error('data worker not initialised: call init(baseUrl) first');
  return base;
}

export function startJob(id: string): AbortSignal {
  const c = new AbortController();
  jobs.set(id, c);
  return c.signal;
}

export function endJob(id: string): void {
  jobs.delete(id);
}

export function cancelJob(id: string): boolean {
  const c = jobs.get(id);
  c?.abort();
  return !!c;
}

/** Index of every bundled evaluation set for n-gram size n (fetched once per n). */
export function evalIndex(n: number): Promise<EvalIndex> {
  let p = indexes.get(n);
  if (!p) {
    p = (async () => {
      const read = fetchBundled(baseUrl());
      const items = await Promise.all(EVAL_SETS.map(async (s) => evalItemsFromJsonl(s.id, await read(s.file))));
      return new EvalIndex(items.flat(), n);
    })();
    indexes.set(n, p);
    p.catch(() => indexes.delete(n));
  }
  return p;
}
