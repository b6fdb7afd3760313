// Custom matcher in the style of jax-js: elementwise |a-b| <= atol + rtol*|b|, reporting the worst index.
import { expect } from 'vitest';

type NumArray = ArrayLike<number>;

interface AllcloseOpts { rtol?: number; atol?: number }

expect.extend({
  toBeAllclose(received: NumArray, expected: NumArray, opts: AllcloseOpts = {}) {
    const rtol = opts.rtol ?? 1e-5;
    const atol = opts.atol ?? 1e-6;
    if (received.length !== expected.length) {
      return { pass: false, message: () => `length ${received.length} != expected ${expected.length}` };
    }
    let worst = -1;
    let worstExcess = 0;
    let bad = 0;
    for (let i = 0; i < expected.length; i++) {
      const a = received[i];
      const b = expected[i];
      const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
      if (!(excess <= 0)) {
        bad++;
        if (worst < 0 || !(excess <= worstExcess)) { worst = i; worstExcess = excess; }
      }
    }
    return {
      pass: bad === 0,
      message: () =>
        bad === 0
          ? `expected arrays not to be allclose (rtol=${rtol}, atol=${atol})`
          : `${bad}/${expected.length} elements differ (rtol=${rtol}, atol=${atol}); worst at [${worst}]: ` +
            `got ${received[worst]}, expected ${expected[worst]}`,
    };
  },
});

declare module 'vitest' {
  interface Matchers<T = any> {
    toBeAllclose(expected: NumArray, opts?: AllcloseOpts): T;
  }
}
