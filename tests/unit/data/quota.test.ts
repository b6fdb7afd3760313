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
    // Chromium on a full disk (seen on a 64 MB tmpfs): the LevelDB error, and the backing store that cannot open.
    expect(isQuotaError(new Error('IO error: /p/000003.log: FILE_ERROR_NO_SPACE'))).toBe(true);
    expect(isQuotaError(new Error('Encountered full disk while opening backing store for indexedDB.open.'))).toBe(true);
    expect(isQuotaError(new Error('Internal error opening backing store for indexedDB.open.'))).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });
  it('sizes a record by its typed arrays', () => {
    const rec = { runId: 'r', checkpoint: { step: 3, adapter: { modules: [{ path: 'p', A: new Float32Array(1000), B: new Float32Array(500), gate: 1 }] } } };
    const n = approxBytes(rec);
    expect(n).toBeGreaterThanOrEqual(6000);
    expect(n).toBeLessThan(6400);
  });
});
