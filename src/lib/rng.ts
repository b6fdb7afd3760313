// The project's one seeded PRNG (mulberry32): selection, subsets, tokenizer training, adapter init,
// example order and generation draw from it, so a seed reproduces a whole run (and branches replay
// from a saved state).

/** mulberry32 as a plain function: 32-bit state, period 2^32; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.next();
}

/** mulberry32 with a state that can be saved and restored (for branching generations). */
export class SeededRng {
  private state: number;
  constructor(seed: number) { this.state = seed >>> 0; }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal via Box-Muller (for random weights). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  save(): number { return this.state; }
  restore(state: number): void { this.state = state >>> 0; }
}
