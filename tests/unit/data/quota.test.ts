// A full disk recognised (QuotaExceededError by name or message), and the size of a checkpoint-like
// record (typed arrays by byte length) that the storage-full message quotes.
import { describe, expect, it } from 'vitest';
import { approxBytes, isQuotaError } from '../../../src/data/quota.ts';

describe('quota', () => {
  it('recognises quota failures and nothing else', () => {
    const q = new Error('x');
    q.name = 'QuotaExceededError';
    expect(isQuotaError(q)).toBe(true);
    expect(isQuotaError(new Error('The quota has been exceeded.'))).toBe(true);
    expect(isQuotaError(new Error('Transaction aborted'))).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });
  it('sizes a record by its typed arrays', () => {
    const rec = { runId: 'r', checkpoint: { step: 3, adapter: { modules: [{ path: 'p', A: new Float32Array(1000), B: new Float32Array(500), gate: 1 }] } } };
    const n = approxBytes(rec);
    expect(n).toBeGreaterThanOrEqual(6000);
    expect(n).toBeLessThan(6400);
  });
});
