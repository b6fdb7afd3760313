// The single-session stop rule, one place for every generation loop (generate, generateBatch, the
// eval's generatePlain): a cache of `maxLength` tokens holding `cached` takes the token just sampled
// only while cached + 1 <= maxLength, so generation uses the context's last slot and never overflows.

/** True when the token just sampled no longer fits: stop with reason 'context'. */
export function contextFull(cached: number, maxLength: number): boolean {
  return cached + 1 > maxLength;
}
