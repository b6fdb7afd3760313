// Share-link codec: round trips, snapshots, the size bound, privacy checks and 1,000 fuzzed hashes.
import { describe, expect, it } from 'vitest';
import { deflateSync, strToU8 } from 'fflate';
import { decodeRecipe, encodeRecipe, fromBase64Url, MAX_INFLATED, toBase64Url } from '../../../src/share/codec.ts';
import { RecipeError, validateRecipe, validateRunRecipe } from '../../../src/share/recipe.ts';
import type { Recipe } from '../../../src/domain/recipe.ts';
import { SeededRng } from '../../../src/lib/rng.ts';

const MATH_PROBLEM =
  'Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.  Enter your answer in the form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$';

export const typical: Recipe = {
  v: 1,
  model: 'Qwen/Qwen2.5-0.5B-Instruct',
  adapter: { kind: 'hash', sha256: 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778' },
  problem: { kind: 'text', text: MATH_PROBLEM, reference: '\\left( 3, \\frac{\\pi}{2} \\right)' },
  seed: 1234,
  sampling: { temperature: 0.7, topP: 0.95, topK: 5, maxNewTokens: 1024 },
  interventions: {
    budget: { minThinking: 256, maxThinking: 900, extension: 'Wait', answerPhrase: 'Final Answer:', endMarkers: ['</think>'], maxAnswerTokens: 64 },
    strategy: {
      source: 'reason1k', traceId: 'pool-1:412',
      plan: 'Find r as the distance from the origin, then find theta from the quadrant of the point; check the range of theta.',
    },
    verify: { threshold: 0.45, action: 'resample', maxResamples: 3, checkPhrase: 'Let me check this step.' },
    consistency: { n: 5 },
  },
  compare: true,
};

const bench: Recipe = {
  v: 1, model: 'bundled:tiny', problem: { kind: 'bench', set: 'math500', id: 'test/precalculus/807.json' }, seed: 7,
  sampling: { temperature: 0, topP: 1, topK: 5, maxNewTokens: 128 }, interventions: {},
};

describe('share link codec', () => {
  it('round-trips recipes exactly', () => {
    for (const r of [typical, bench]) {
      const h = encodeRecipe(r);
      const d = decodeRecipe(h);
      expect(d).toEqual({ ok: true, recipe: r });
      expect(decodeRecipe(h.slice(1))).toEqual(d); // without '#'
    }
  });

  it('encodes deterministically (snapshots)', () => {
    expect(encodeRecipe(bench)).toMatchSnapshot();
    expect(encodeRecipe(typical)).toMatchSnapshot();
  });

  it('keeps typical recipes under 2,000 characters', () => {
    expect(encodeRecipe(typical).length).toBeLessThan(2000);
    expect(encodeRecipe(bench).length).toBeLessThan(400);
    // A long AIME-size problem with all interventions still fits.
    const long = { ...typical, problem: { kind: 'text' as const, text: MATH_PROBLEM.repeat(5) } };
    expect(encodeRecipe(long).length).toBeLessThan(2000);
  });

  it('refuses keys, local paths, blob: URLs and e-mail addresses on encode', () => {
    const bad: [string, Recipe][] = [
      ['problem.text', { ...bench, problem: { kind: 'text', text: 'my key is sk-proj-abcdefghijklmnopqrstuvwxyz123456' } }],
      ['problem.text', { ...bench, problem: { kind: 'text', text: 'token hf_abcdefghijklmnopqrstuvwxyzABCD' } }],
      ['problem.text', { ...bench, problem: { kind: 'text', text: 'see /home/alice/notes.txt' } }],
      ['problem.text', { ...bench, problem: { kind: 'text', text: 'open C:\\Users\\bob\\x.json' } }],
      ['problem.text', { ...bench, problem: { kind: 'text', text: 'mail bob.smith@example.com for help' } }],
      ['problem.text', { ...bench, problem: { kind: 'text', text: 'x 9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc y' } }],
      ['model', { ...bench, model: '/home/alice/models/qwen' }],
      ['model', { ...bench, model: 'blob:http://127.0.0.1/1234' }],
      ['model', { ...bench, model: '../../etc/passwd' }],
      ['adapter.sha256', { ...bench, adapter: { kind: 'hash', sha256: 'file:///tmp/adapter.safetensors' } }],
      ['interventions.strategy.plan', { ...bench, interventions: { strategy: { source: 'typed', plan: 'use Bearer abcdefghijklmnopqrstuv' } } }],
    ];
    for (const [field, r] of bad) {
      let err: unknown;
      try { encodeRecipe(r); } catch (e) { err = e; }
      expect(err, field).toBeInstanceOf(RecipeError);
      expect((err as RecipeError).field).toBe(field);
    }
    // Ordinary maths is not mistaken for a key.
    expect(() => encodeRecipe({ ...bench, problem: { kind: 'text', text: 'Compute 123456789012345678901234567890123 + 1 and x_1/y_2.' } })).not.toThrow();
  });

  it('names the field on invalid recipes', () => {
    const cases: [unknown, string][] = [
      [{ ...bench, v: 2 }, 'v'],
      [{ ...bench, seed: -1 }, 'seed'],
      [{ ...bench, sampling: { ...bench.sampling, topK: 1000 } }, 'sampling.topK'],
      [{ ...bench, extra: 1 }, 'recipe.extra'],
      [{ ...bench, interventions: { verify: { threshold: 2, action: 'resample', maxResamples: 1, checkPhrase: '' } } }, 'interventions.verify.threshold'],
      [{ ...bench, interventions: { consistency: { n: 0 } } }, 'interventions.consistency.n'],
      [{ ...bench, problem: { kind: 'text', text: 'x'.repeat(7000) } }, 'problem.text'],
    ];
    for (const [r, field] of cases) {
      expect(() => validateRecipe(r)).toThrow(RecipeError);
      try { validateRecipe(r); } catch (e) { expect((e as RecipeError).field).toBe(field); }
    }
  });

  it('base64url round-trips every length', () => {
    const rng = new SeededRng(3);
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
      expect(Array.from(fromBase64Url(toBase64Url(b))!)).toEqual(Array.from(b));
    }
  });
});

describe('hostile and broken hashes', () => {
  const rng = new SeededRng(99);
  const rand = (n: number) => Math.floor(rng.next() * n);
  const b64 = (bytes: Uint8Array) => `#r=1.${toBase64Url(bytes)}`;
  const pack = (text: string) => b64(deflateSync(strToU8(text)));
  const good = encodeRecipe(typical);
  const bombs = [1, 1000, 100_000, 4_000_000].map((extra) => pack(' '.repeat(MAX_INFLATED + extra)));

  function hostile(i: number): string {
    switch (i % 10) {
      case 0: { // random printable junk
        const n = rand(300);
        return Array.from({ length: n }, () => String.fromCharCode(32 + rand(95))).join('');
      }
      case 1: // random bytes that are not deflate
        return b64(Uint8Array.from({ length: 1 + rand(200) }, () => rand(256)));
      case 2: // valid deflate of non-JSON, including markup
        return pack(`<script>alert(${i})</script><img src=x onerror=alert(1)>`.repeat(1 + rand(3)));
      case 3: { // valid JSON of the wrong shape
        const shapes = ['null', '1', '"x"', '[]', '{}', '{"v":1}', `{"v":1,"model":"m","__proto__":{"polluted":true}}`, '{"v":"1"}', 'true'];
        return pack(shapes[rand(shapes.length)]);
      }
      case 4: // a bomb: tiny hash, huge output (a few sizes, packed once)
        return bombs[rand(bombs.length)];
      case 5: // the real link, truncated
        return good.slice(0, 4 + rand(good.length - 6));
      case 6: // wrong version / prefix
        return [`#r=2.${good.slice(5)}`, `#x=${good.slice(3)}`, '#r=', '#r=1.', '#', '', `#r=1${good.slice(5)}`][rand(7)];
      case 7: // characters outside base64url
        return `${good.slice(0, 10)}${'+/=%<>"\' \u0000\u202e'[rand(11)]}${good.slice(11)}`;
      case 8: // valid recipe JSON with a private or out-of-range field
        return pack(JSON.stringify([
          { ...typical, model: 'C:\\models\\x' },
          { ...typical, seed: 2 ** 40 },
          { ...typical, problem: { kind: 'text', text: 'key AKIAABCDEFGHIJKLMNOP' } },
          { ...typical, sampling: { ...typical.sampling, temperature: 'hot' } },
          { ...typical, interventions: { ...typical.interventions, verify: { ...typical.interventions.verify, action: 'eval' } } },
        ][rand(5)]));
      default: // far too long
        return `#r=1.${'A'.repeat(12_001 + rand(1000))}`;
    }
  }

  it('rejects 1,000 fuzzed hashes with a clear message and no exception', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const h = hostile(i);
      let res: ReturnType<typeof decodeRecipe> | undefined;
      expect(() => { res = decodeRecipe(h); }).not.toThrow();
      expect(res!.ok, `case ${i}: ${h.slice(0, 60)}`).toBe(false);
      if (!res!.ok) {
        expect(res!.error).toMatch(/^This share link cannot be opened: \S/);
        seen.add(res!.error.replace(/\d+/g, 'N').slice(0, 60));
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const b of bombs) {
      expect(b.length).toBeLessThan(12_000); // small enough to reach the inflater
      expect(decodeRecipe(b)).toEqual({ ok: false, error: 'This share link cannot be opened: the data is corrupt or inflates beyond 64 KiB' });
    }
    expect(seen.size).toBeGreaterThan(8); // the messages say what is wrong, not one generic line
  });

  it('bit flips in a real link either decode to a valid recipe or are rejected, never throw', () => {
    const bytes = fromBase64Url(good.slice(5))!;
    for (let i = 0; i < 300; i++) {
      const m = bytes.slice();
      m[rand(m.length)] ^= 1 << rand(8);
      const r = decodeRecipe(b64(m));
      if (r.ok) expect(() => validateRecipe(r.recipe)).not.toThrow();
      else expect(r.error.length).toBeGreaterThan(30);
    }
  });
});

describe('a run of a model loaded from picked files or a URL', () => {
  const local = { ...typical, model: 'local:config.json,model.safetensors,tokenizer.json' };
  it('runs on this page (every other field still checked) but cannot become a link', () => {
    expect(() => validateRecipe(local)).toThrow(/model: must be a hub id/);
    expect(validateRunRecipe(local)).toEqual(local);
    expect(() => validateRunRecipe({ ...local, seed: -1 })).toThrow(RecipeError);
    expect(() => encodeRecipe(validateRunRecipe(local))).toThrow(/model: must be a hub id/);
    expect(validateRunRecipe(typical)).toEqual(typical);
  });
});
