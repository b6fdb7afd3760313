// Model sources over a real HTTP server on 127.0.0.1 (the hub URL layout), picked File objects and a
// directory. The browser Cache API path is covered by the end-to-end test (tests/e2e/models.spec.ts).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackF16 } from '../../../src/engine/model/f16.ts';
import { nodeDirAccess } from '../../../src/engine/model/node-source.ts';
import { filesAccess, openModel, type FileAccess } from '../../../src/engine/model/sources.ts';
import { accessFor } from '../../../src/data/model-download.ts';
import { nodeAccess } from '../../../src/data/node-model.ts';
import type { HostTensor, LoadProgress } from '../../../src/engine/model/types.ts';
import { f32Bytes, writeSafetensors } from './st-writer.ts';

const CONFIG = {
  architectures: ['Qwen2ForCausalLM'], vocab_size: 512, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
  num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 256, rope_theta: 1e6, tie_word_embeddings: true, eos_token_id: 2,
};
const TOKENIZER = readFileSync('models/tiny/tokenizer.json', 'utf8');
const TOKENIZER_CONFIG = readFileSync('models/tiny/tokenizer_config.json', 'utf8');
const embed = Array.from({ length: 512 * 16 }, (_, i) => (i % 17) / 16 - 0.5);
const WEIGHTS = writeSafetensors([
  { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [512, 16], data: f32Bytes(embed) },
  { name: 'model.norm.weight', dtype: 'F32', shape: [16], data: f32Bytes(new Array(16).fill(1)) },
]);
const SHARD1 = writeSafetensors([{ name: 'model.embed_tokens.weight', dtype: 'F32', shape: [512, 16], data: f32Bytes(embed) }]);
const SHARD2 = writeSafetensors([{ name: 'model.norm.weight', dtype: 'F32', shape: [16], data: f32Bytes(new Array(16).fill(1)) }]);
const INDEX = JSON.stringify({ metadata: { total_size: 512 * 16 * 4 + 64 }, weight_map: { 'model.embed_tokens.weight': 'model-00001-of-00002.safetensors', 'model.norm.weight': 'model-00002-of-00002.safetensors' } });
const BIG_CONFIG = { ...CONFIG, vocab_size: 152064, hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, max_position_embeddings: 32768 }; // Qwen2.5-7B shape

/** repo -> file -> body (or an HTTP status). */
const REPOS: Record<string, Record<string, string | Uint8Array | number>> = {
  'test/tiny': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'tokenizer_config.json': TOKENIZER_CONFIG, 'generation_config.json': '{"eos_token_id": [2, 0]}', 'model.safetensors': WEIGHTS },
  'test/sharded': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors.index.json': INDEX, 'model-00001-of-00002.safetensors': SHARD1, 'model-00002-of-00002.safetensors': SHARD2 },
  'test/no-tokenizer': { 'config.json': JSON.stringify(CONFIG), 'model.safetensors': WEIGHTS },
  'test/no-weights': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER },
  'test/truncated': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors': WEIGHTS.subarray(0, WEIGHTS.byteLength - 100) },
  'test/big': { 'config.json': JSON.stringify(BIG_CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors': WEIGHTS },
  'test/gemma': { 'config.json': JSON.stringify({ ...CONFIG, architectures: ['Gemma2ForCausalLM'] }) },
  'test/gated': { 'config.json': 401 },
  'test/slow': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER },
  // Served like a single-page app: a missing file comes back as index.html with status 200.
  'test/spa': { 'config.json': JSON.stringify(CONFIG), 'model.safetensors': WEIGHTS },
  // The index names two shards; the second is not there.
  'test/missing-shard': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors.index.json': INDEX, 'model-00001-of-00002.safetensors': SHARD1 },
  // Hub headers: x-linked-size and x-linked-etag (the SHA-256) on every file.
  'test/hashed': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors': WEIGHTS },
  // The stated SHA-256 is of other bytes: the download must be refused.
  'test/badhash': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors': WEIGHTS },
  // No hash in the headers (a browser cannot read the hub's redirect), but the tree API lists the LFS oid: right, and of other bytes.
  'test/listed': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors': WEIGHTS },
  'test/listed-bad': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors': WEIGHTS },
  // A server that refuses HEAD (405): the probe falls back to a one-byte range GET.
  'test/nohead': { 'config.json': JSON.stringify(CONFIG), 'tokenizer.json': TOKENIZER, 'model.safetensors.index.json': INDEX, 'model-00001-of-00002.safetensors': SHARD1, 'model-00002-of-00002.safetensors': SHARD2 },
};
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

let server: Server;
let slowConfig = false;
let hubBase: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.method === 'GET' ? req.url ?? '' : `${req.method} ${req.url}`);
    const tree = /^\/api\/models\/(test\/listed(?:-bad)?)\/tree\/main$/.exec(req.url ?? '');
    if (tree) {
      const oid = tree[1] === 'test/listed' ? sha(WEIGHTS) : sha('other bytes');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([
        { type: 'file', path: 'config.json', size: 10, oid: 'abc' },
        { type: 'file', path: 'model.safetensors', size: WEIGHTS.byteLength, oid: 'def', lfs: { oid, size: WEIGHTS.byteLength, pointerSize: 134 } },
      ]));
      return;
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const body = m ? REPOS[m[1]]?.[m[2]] : undefined;
    if (typeof body === 'number') { res.writeHead(body).end('denied'); return; }
    const bytesOf = (b: string | Uint8Array) => (typeof b === 'string' ? Buffer.from(b) : Buffer.from(b));
    const hubHeaders = (b: Buffer): Record<string, string> => m && (m[1] === 'test/hashed' || m[1] === 'test/badhash')
      ? { 'x-linked-size': String(b.byteLength), 'x-linked-etag': `"${m[1] === 'test/badhash' ? sha('other bytes') : sha(b)}"` } : {};
    if (req.method === 'HEAD') {
      if (m?.[1] === 'test/nohead') { res.writeHead(405).end(); return; }
      if (m?.[1] === 'test/slow' && m[2] === 'model.safetensors') { res.writeHead(200, { 'content-length': WEIGHTS.byteLength }).end(); return; }
      if (body === undefined) { res.writeHead(m && REPOS[m[1]] ? 404 : 401).end(); return; }
      const b = bytesOf(body);
      res.writeHead(200, { 'content-length': b.byteLength, 'content-type': 'application/octet-stream', ...hubHeaders(b) }).end();
      return;
    }
    if (m?.[1] === 'test/nohead' && req.headers.range === 'bytes=0-0' && body !== undefined) {
      const b = bytesOf(body);
      res.writeHead(206, { 'content-range': `bytes 0-0/${b.byteLength}`, 'content-length': 1 }).end(b.subarray(0, 1));
      return;
    }
    if (m?.[1] === 'test/slow' && m[2] === 'model.safetensors') { // headers and 100 bytes, then nothing for a long time
      res.writeHead(200, { 'content-length': WEIGHTS.byteLength });
      res.write(Buffer.from(WEIGHTS.subarray(0, 100)));
      const t = setTimeout(() => res.end(Buffer.from(WEIGHTS.subarray(100))), 20_000);
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (m?.[1] === 'test/slow' && m[2] === 'config.json' && slowConfig) { setTimeout(() => res.writeHead(200).end(JSON.stringify(CONFIG)), 20_000); return; }
    if (body === undefined && m?.[1] === 'test/spa') { res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html></html>'); return; }
    if (body === undefined) { res.writeHead(m && REPOS[m[1]] ? 404 : 401).end('Entry not found'); return; }
    const bytes = bytesOf(body);
    res.writeHead(200, { 'content-length': bytes.byteLength, 'content-type': 'application/octet-stream', ...hubHeaders(bytes) }).end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hubBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const hub = (id: string): FileAccess => accessFor({ kind: 'hub', id }, { hubBase });
async function all(gen: AsyncIterable<HostTensor>): Promise<HostTensor[]> {
  const out: HostTensor[] = [];
  for await (const t of gen) out.push(t);
  return out;
}
const LIMITS = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 };

describe('openModel over HTTP (hub layout)', () => {
  it('reads config, tokenizer and eos ids, then streams the weights with progress', async () => {
    const events: LoadProgress[] = [];
    const m = await openModel(hub('test/tiny'), { limits: LIMITS, budgetBytes: 4e9, onProgress: (p) => events.push(p) });
    expect(m.config.architecture).toBe('qwen2');
    expect(m.contextLength).toBe(256); // min(2048, max_position_embeddings)
    expect(m.eosTokenIds.sort()).toEqual([0, 2]);
    expect(JSON.parse(m.tokenizerJson).model.type).toBe('BPE');
    expect(m.weightBytes).toBe(WEIGHTS.byteLength);
    const ts = await all(m.tensors());
    expect(ts.map((t) => t.name)).toEqual(['model.embed_tokens.weight', 'model.norm.weight']);
    expect(Array.from(unpackF16(ts[0].packed, 5))).toEqual(embed.slice(0, 5));
    const last = events[events.length - 1];
    expect(last).toMatchObject({ phase: 'convert', file: 'model.safetensors', loadedBytes: WEIGHTS.byteLength });
    await expect(all(m.tensors())).rejects.toThrow(/streams the weights once/);
  });

  it('iterates a sharded checkpoint with one monotone progress fraction, stage named', async () => {
    const events: LoadProgress[] = [];
    const m = await openModel(hub('test/sharded'), { onProgress: (p) => events.push(p) });
    expect(m.weightBytes).toBe(SHARD1.byteLength + SHARD2.byteLength); // sizes from HEAD, before any weight
    const ts = await all(m.tensors());
    expect(ts.map((t) => t.name)).toEqual(['model.embed_tokens.weight', 'model.norm.weight']);
    const fr = events.map((e) => e.fraction);
    expect(fr.every((f, i) => i === 0 || f >= fr[i - 1])).toBe(true);
    expect(fr[fr.length - 1]).toBeGreaterThan(0.98);
    expect(new Set(events.map((e) => e.phase))).toEqual(new Set(['tokenizer', 'probe', 'convert']));
    // Per-file bytes are of that file: the second shard starts again from 0, the fraction does not.
    const second = events.filter((e) => e.file === 'model-00002-of-00002.safetensors');
    expect(second[second.length - 1]).toMatchObject({ loadedBytes: SHARD2.byteLength, totalBytes: SHARD2.byteLength });
  });

  it('checks every shard the index names before streaming any weights', async () => {
    requests.length = 0;
    await expect(openModel(hub('test/missing-shard'))).rejects.toThrow(
      'model-00002-of-00002.safetensors (named in model.safetensors.index.json) is not found in test/missing-shard; checked before downloading any weights (1 of 2 shards present)');
    expect(requests.filter((u) => u.includes('safetensors') && !u.includes('index') && !u.startsWith('HEAD'))).toEqual([]);
    expect(requests.filter((u) => u.startsWith('HEAD'))).toHaveLength(2);
    // A server refusing HEAD is asked with a one-byte range GET instead.
    const m = await openModel(hub('test/nohead'));
    expect(m.weightBytes).toBe(SHARD1.byteLength + SHARD2.byteLength);
    expect((await all(m.tensors())).length).toBe(2);
  });

  it("verifies a download against the hub's SHA-256 where it states one", async () => {
    const ok = await openModel(hub('test/hashed'));
    expect((await all(ok.tensors())).length).toBe(2);
    const bad = await openModel(hub('test/badhash'));
    const err = await (async () => { const it = bad.tensors(); for await (const t of it) void t; })().then(() => null, (e: Error) => e);
    // The parser stops after the last tensor; the hash is checked once the whole file has passed.
    expect(err?.message).toMatch(/^model\.safetensors of test\/badhash does not match the hub's SHA-256 \(expected [0-9a-f]{12}…, got [0-9a-f]{12}…\)/);
  });

  it("takes the SHA-256 from the hub's tree listing (LFS oid) when the headers carry none", async () => {
    const ok = await openModel(hub('test/listed'));
    expect((await all(ok.tensors())).length).toBe(2);
    expect(requests).toContain('/api/models/test/listed/tree/main');
    const bad = await openModel(hub('test/listed-bad'));
    const err = await all(bad.tensors()).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^model\.safetensors of test\/listed-bad does not match the hub's SHA-256/);
  });

  it('says which file is missing, or that the repo is unknown or gated', async () => {
    await expect(openModel(hub('test/nothing-here'))).rejects.toThrow(/^config\.json in test\/nothing-here: HTTP 401 at http:\/\/127\.0\.0\.1:\d+\/test\/nothing-here\/resolve\/main\/config\.json; the repository does not exist, is private, or is gated/);
    await expect(openModel(hub('test/gated'))).rejects.toThrow(/does not exist, is private, or is gated/);
    await expect(openModel(hub('test/no-tokenizer'))).rejects.toThrow('tokenizer.json not found in test/no-tokenizer');
    await expect(openModel(hub('test/no-weights'))).rejects.toThrow('model.safetensors (or model.safetensors.index.json) not found in test/no-weights');
    await expect(openModel(hub('test/gemma'))).rejects.toThrow('config.json of test/gemma: field "architectures" "Gemma2ForCausalLM" is not supported; supported: Qwen2ForCausalLM, LlamaForCausalLM');
    expect(() => accessFor({ kind: 'hub', id: 'not a model id' })).toThrow('"not a model id" is not a Hugging Face model id');
  });

  it('treats an HTML page served for a missing file (SPA fallback) as absent', async () => {
    await expect(openModel(hub('test/spa'))).rejects.toThrow('tokenizer.json not found in test/spa');
  });

  it('reports a truncated download with expected and actual sizes', async () => {
    const m = await openModel(hub('test/truncated'));
    await expect(all(m.tensors())).rejects.toThrow(`model.safetensors is truncated: expected ${WEIGHTS.byteLength} bytes, got ${WEIGHTS.byteLength - 100}`);
  });

  it('refuses a model too large for the device before fetching any weight, and says what fits', async () => {
    requests.length = 0;
    const err = await openModel(hub('test/big'), { limits: LIMITS, budgetBytes: 4e9 }).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^test\/big needs 13\.4 GiB of GPU memory \(weights 13\.2 GiB, KV cache 112 MiB at 2048 tokens\); this device allows ~3\.73 GiB \(up to 1 GiB per buffer\); try Qwen\/Qwen3-1\.7B/);
    expect(requests.some((u) => u.includes('safetensors'))).toBe(false);
    expect(requests.some((u) => u.includes('tokenizer'))).toBe(false);
    // The weights fit but a long context does not: it says which context would.
    const ctxErr = await openModel(hub('test/big'), { limits: LIMITS, budgetBytes: 16e9, contextLength: 32768 }).then(() => null, (e: Error) => e);
    expect(ctxErr?.message).toMatch(/KV cache 1\.75 GiB at 32768 tokens.*a context of \d+ tokens would fit/);
    await expect(openModel(hub('test/big'), { limits: LIMITS, budgetBytes: 20e9 })).resolves.toBeTruthy();
  });

  it('stops a download at once when the load is cancelled', async () => {
    const abort = new AbortController();
    const m = await openModel(accessFor({ kind: 'hub', id: 'test/slow' }, { hubBase, signal: abort.signal }));
    const t0 = Date.now();
    setTimeout(() => abort.abort(), 200);
    await expect(all(m.tensors())).rejects.toThrow('Loading was cancelled');
    expect(Date.now() - t0).toBeLessThan(5000); // not the 20 s the server would take
    // Cancelled while waiting for the response: a clear message, not "could not reach".
    slowConfig = true;
    const abort2 = new AbortController();
    setTimeout(() => abort2.abort(), 200);
    await expect(openModel(accessFor({ kind: 'hub', id: 'test/slow' }, { hubBase, signal: abort2.signal }))).rejects.toThrow('Loading was cancelled');
    slowConfig = false;
  });

  it('says the network is unreachable, naming the host and file', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    await expect(openModel(accessFor({ kind: 'hub', id: 'Qwen/Qwen2.5-0.5B-Instruct' }, { hubBase: `http://127.0.0.1:${port}` })))
      .rejects.toThrow(new RegExp(`^Could not reach 127\\.0\\.0\\.1:${port} for config\\.json of Qwen/Qwen2\\.5-0\\.5B-Instruct .*Are you offline\\?`));
  });
});

describe('picked files and directories', () => {
  it('loads from File objects and names the missing config', async () => {
    const files = [
      new File([JSON.stringify(CONFIG)], 'config.json'), new File([TOKENIZER], 'tokenizer.json'),
      new File([WEIGHTS], 'model.safetensors'),
    ];
    const m = await openModel(filesAccess(files));
    expect((await all(m.tensors())).length).toBe(2);
    await expect(openModel(filesAccess(files.slice(1)))).rejects.toThrow('config.json not found in the picked files (model.safetensors, tokenizer.json)');
    // A picked weights file cut short fails before any conversion, from its size.
    const cut = [...files.slice(0, 2), new File([WEIGHTS.subarray(0, 200)], 'model.safetensors')];
    const m2 = await openModel(filesAccess(cut));
    await expect(all(m2.tensors())).rejects.toThrow(`model.safetensors is truncated: expected ${WEIGHTS.byteLength} bytes, got 200`);
  });

  it('loads from a directory in Node, and treats a non-directory as a hub id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-model-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
    writeFileSync(join(dir, 'tokenizer.json'), TOKENIZER);
    writeFileSync(join(dir, 'model.safetensors'), WEIGHTS);
    const m = await openModel(nodeDirAccess(dir));
    expect((await all(m.tensors())).map((t) => t.shape)).toEqual([[512, 16], [16]]);
    const viaHub = await nodeAccess('test/tiny', { hubBase });
    expect(viaHub.label).toBe('test/tiny');
    await expect(nodeAccess('./no/such/dir')).rejects.toThrow('./no/such/dir: no such directory');
  });
});
