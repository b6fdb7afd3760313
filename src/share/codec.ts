// Share links: "#r=1.<base64url(deflate-raw(JSON recipe))>". Encoding validates the recipe (no keys,
// paths or personal data). Decoding never throws and never evaluates anything: it bounds the hash
// length and the inflated size, parses JSON, and validates field by field.
import { Inflate, deflateSync, strFromU8, strToU8 } from 'fflate';
import { RecipeError, validateRecipe } from './recipe.ts';
import type { Recipe } from '../domain/recipe.ts';

export const HASH_PREFIX = '#r=';
export const CODEC_VERSION = '1';
/** Longest hash accepted (characters). */
export const MAX_HASH = 12_000;
/** Most bytes a hash may inflate to. */
export const MAX_INFLATED = 64 * 1024;

export type DecodeResult = { ok: true; recipe: Recipe } | { ok: false; error: string };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let j = 0; j < chars; j++) out += B64[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** null for characters outside the base64url alphabet or an impossible length. */
export function fromBase64Url(s: string): Uint8Array | null {
  if (s.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B64.indexOf(s[i]);
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** The hash ("#r=1.…") for a recipe. Throws RecipeError if the recipe is invalid or holds private data. */
export function encodeRecipe(recipe: Recipe): string {
  const clean = validateRecipe(JSON.parse(JSON.stringify(recipe)));
  const bytes = deflateSync(strToU8(JSON.stringify(clean)), { level: 9 });
  return `${HASH_PREFIX}${CODEC_VERSION}.${toBase64Url(bytes)}`;
}

/** Inflates with a hard output bound; null if the data is not valid deflate or inflates past `max`. */
function boundedInflate(data: Uint8Array, max: number): Uint8Array | null {
  const parts: Uint8Array[] = [];
  let total = 0;
  let over = false;
  const inf = new Inflate((chunk) => {
    total += chunk.length;
    if (total > max) { over = true; throw new Error('too large'); }
    parts.push(chunk);
  });
  try {
    // Small input pieces keep each inflate step's output small (deflate expands at most ~1032x).
    const STEP = 32;
    for (let i = 0; i < data.length; i += STEP) {
      const end = Math.min(data.length, i + STEP);
      inf.push(data.subarray(i, end), end === data.length);
      if (over) return null;
    }
    if (data.length === 0) return null;
  } catch {
    return null;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Longest message a decode failure produces (a hostile payload must not make a huge banner). */
export const MAX_MESSAGE = 300;

export function capMessage(s: string, max = MAX_MESSAGE): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** True for a hash that is meant as a share link ("#r=" or "#R="). */
export function isShareHash(hash: string): boolean {
  return hash.slice(0, HASH_PREFIX.length).toLowerCase() === HASH_PREFIX;
}

/** Reads a share hash (with or without the leading "#"). Never throws. */
export function decodeRecipe(hash: string): DecodeResult {
  const fail = (error: string): DecodeResult => ({ ok: false, error: capMessage(`This share link cannot be opened: ${error}`) });
  try {
    if (typeof hash !== 'string') return fail('it is not text');
    const h = hash.startsWith('#') ? hash : `#${hash}`;
    if (h.length > MAX_HASH) return fail(`it is longer than ${MAX_HASH} characters`);
    // "#R=" (a link typed or passed through an upper-casing tool) is read as "#r=".
    if (h.slice(0, HASH_PREFIX.length).toLowerCase() !== HASH_PREFIX) return fail('it does not start with "#r=" (not a playground link)');
    const body = h.slice(HASH_PREFIX.length);
    const dot = body.indexOf('.');
    if (dot < 0) return fail('the version marker is missing');
    const version = body.slice(0, dot);
    if (version !== CODEC_VERSION) return fail(`link version "${version.slice(0, 12)}" is not supported (this app reads version ${CODEC_VERSION})`);
    const bytes = fromBase64Url(body.slice(dot + 1));
    if (!bytes || bytes.length === 0) return fail('the data is not valid base64url (was the link cut or edited?)');
    const raw = boundedInflate(bytes, MAX_INFLATED);
    if (!raw) return fail(`the data is corrupt or inflates beyond ${MAX_INFLATED / 1024} KiB`);
    let text: string;
    try {
      text = strFromU8(raw);
    } catch {
      return fail('the data is not UTF-8 text');
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return fail('the recipe is not valid JSON');
    }
    return { ok: true, recipe: validateRecipe(json) };
  } catch (e) {
    if (e instanceof RecipeError) return fail(`recipe field ${e.message}`);
    return fail('it could not be read');
  }
}
