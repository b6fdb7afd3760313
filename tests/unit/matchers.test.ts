import { describe, expect, it } from 'vitest';

describe('toBeAllclose', () => {
  it('accepts values inside tolerance and rejects outside', () => {
    expect([1, 2, 3]).toBeAllclose([1, 2, 3 + 1e-7]);
    expect([1, 2, 3]).not.toBeAllclose([1, 2, 3.1]);
    expect([1, 2]).not.toBeAllclose([1, 2, 3]);
    expect([NaN]).not.toBeAllclose([0]);
  });
});
