// A real HTTP server on 127.0.0.1 (port 0) serving model folders (config, tokenizer, safetensors,
// shards) for the loader's tests: GET, HEAD and single byte ranges; CORS on or off; the hub's
// x-linked-size / x-linked-etag (SHA-256) headers on weight files; files that can be changed,
// cut short or removed while it runs (a server "fixed" between two loads); an optional slow pace.
//
//   const srv = await startModelServer({ tiny: await tinyModelFiles({ shards: 2 }) });
//   srv.folder('tiny')            // "http://127.0.0.1:PORT/tiny/"
//   srv.set('tiny', 'model-00002-of-00002.safetensors', bytes.subarray(0, 100))   // cut short
//   srv.requests                  // [{ method, model, file }]
//   srv.setDrops(20)              // the next 20 weight GETs drop the connection at a random byte
//   srv.sent('tiny', file)        // body bytes written for that file, all requests together
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSafetensors, chunked } from '../../src/engine/model/safetensors.ts';
import { hostTensorToF16Bytes, writeSafetensors } from '../../src/engine/model/safetensors-write.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { randomModelTensors } from '../../src/engine/model/random-model.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';

export type ModelFiles = Record<string, Uint8Array | string>;

export interface ModelServerOptions {
  /** Send CORS headers (default true): without them a page on another origin cannot read the files. */
  cors?: boolean;
  /** Send "Cross-Origin-Resource-Policy: cross-origin" (lets a cross-origin-isolated page make no-cors requests). */
  corp?: boolean;
  /** Send the hub's x-linked-size and x-linked-etag (SHA-256) on .safetensors files (default true). */
  hubHeaders?: boolean;
  /** Send weight bodies in chunks of this many bytes with `delayMs` between them (default: at once). */
  pace?: { chunkBytes: number; delayMs: number };
  /** Honour Range requests (default true); false answers every GET whole with 200, as some servers do. */
  ranges?: boolean;
  /** Random source for drop points (default Math.random). */
  rng?: () => number;
}

export interface ServedRequest { method: string; model: string; file: string; range?: string }

export interface ModelServer {
  url: string;
  folder(model: string): string;
  /** Replaces (or with undefined removes) one file of a model. */
  set(model: string, file: string, body: Uint8Array | string | undefined): void;
  setCors(on: boolean): void;
  setCorp(on: boolean): void;
  setPace(pace: ModelServerOptions['pace']): void;
  /** The next `n` GETs of weight files send a random number of body bytes (at least 1, fewer than all) and drop the connection. */
  setDrops(n: number, thenDown?: boolean): void;
  /** While down, weight GETs are answered 503 (a server gone for a while). */
  setDown(down: boolean): void;
  setRanges(on: boolean): void;
  /** Body bytes written for `file` of `model` so far (dropped requests count what was sent). */
  sent(model: string, file: string): number;
  /** Where each dropped GET was cut: [start of the body in the file, bytes sent]. */
  drops: Array<{ file: string; from: number; sent: number }>;
  requests: ServedRequest[];
  close(): Promise<void>;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export async function startModelServer(models: Record<string, ModelFiles>, opts: ModelServerOptions = {}): Promise<ModelServer> {
  const files = new Map<string, Map<string, Buffer>>();
  const put = (m: string, f: string, b: Uint8Array | string): void => {
    if (!files.has(m)) files.set(m, new Map());
    files.get(m)!.set(f, typeof b === 'string' ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  };
  for (const [m, fs] of Object.entries(models)) for (const [f, b] of Object.entries(fs)) put(m, f, b);
  let cors = opts.cors ?? true;
  let corp = opts.corp ?? false;
  let pace = opts.pace;
  let dropsLeft = 0;
  let downAfter = false;
  let down = false;
  let ranges = opts.ranges ?? true;
  const rng = opts.rng ?? Math.random;
  const sentBytes = new Map<string, number>();
  const drops: ModelServer['drops'] = [];
  const count = (key: string, n: number): void => { sentBytes.set(key, (sentBytes.get(key) ?? 0) + n); };
  const requests: ServedRequest[] = [];
  const corsHeaders = (): Record<string, string> => ({ ...(corp ? { 'cross-origin-resource-policy': 'cross-origin' } : {}), ...(cors ? {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'range',
    'access-control-expose-headers': 'content-length, content-range, etag, x-linked-size, x-linked-etag',
  } : {}) });

  const server = http.createServer((req, res) => {
    const m = /^\/([\w.-]+)\/([\w.-]+)$/.exec((req.url ?? '').split('?')[0]);
    if (req.method === 'OPTIONS') { res.writeHead(204, { ...corsHeaders(), 'access-control-allow-methods': 'GET, HEAD' }).end(); return; }
    if (!m) { res.writeHead(404, corsHeaders()).end('not found'); return; }
    const [, model, file] = m;
    requests.push({ method: req.method ?? 'GET', model, file, ...(req.headers.range ? { range: String(req.headers.range) } : {}) });
    const body = files.get(model)?.get(file);
    if (!body) { res.writeHead(404, corsHeaders()).end('Entry not found'); return; }
    const headers: Record<string, string> = {
      ...corsHeaders(),
      'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'accept-ranges': 'bytes',
    };
    if ((opts.hubHeaders ?? true) && file.endsWith('.safetensors')) {
      headers['x-linked-size'] = String(body.byteLength);
      headers['x-linked-etag'] = `"${sha256(body)}"`;
    }
    if (down && req.method === 'GET' && file.endsWith('.safetensors')) { res.writeHead(503, corsHeaders()).end('down'); return; }
    let out = body;
    let status = 200;
    const range = ranges ? /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? '')) : null;
    if (range) {
      const a = Number(range[1]);
      const b = range[2] ? Math.min(Number(range[2]), body.byteLength - 1) : body.byteLength - 1;
      if (a >= body.byteLength) { res.writeHead(416, { ...headers, 'content-range': `bytes */${body.byteLength}` }).end(); return; }
      out = body.subarray(a, b + 1);
      status = 206;
      headers['content-range'] = `bytes ${a}-${b}/${body.byteLength}`;
    }
    headers['content-length'] = String(out.byteLength);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') { res.end(); return; }
    const key = `${model}/${file}`;
    if (dropsLeft > 0 && file.endsWith('.safetensors') && out.byteLength > 1) {
      dropsLeft--;
      if (dropsLeft === 0 && downAfter) down = true;
      // Spread over what is left: about (bytes left) / (drops left) apart on average.
      const cut = 1 + Math.floor(rng() * Math.min(out.byteLength - 1, Math.ceil((2 * out.byteLength) / (dropsLeft + 2))));
      drops.push({ file, from: range ? Number(range[1]) : 0, sent: cut });
      count(key, cut);
      res.write(out.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    if (!pace || !file.endsWith('.safetensors')) { count(key, out.byteLength); res.end(out); return; }
    const p = pace;
    let off = 0;
    const step = (): void => {
      if (res.destroyed) return;
      const next = out.subarray(off, off + p.chunkBytes);
      off += next.byteLength;
      count(key, next.byteLength);
      if (off >= out.byteLength) { res.end(next); return; }
      res.write(next);
      setTimeout(step, p.delayMs);
    };
    step();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    folder: (model) => `${url}/${model}/`,
    set(model, file, body) {
      if (body === undefined) files.get(model)?.delete(file);
      else put(model, file, body);
    },
    setCors(on) { cors = on; },
    setCorp(on) { corp = on; },
    setPace(p) { pace = p; },
    setDrops(n, thenDown = false) { dropsLeft = n; downAfter = thenDown; },
    setDown(d) { down = d; },
    setRanges(on) { ranges = on; },
    sent: (model, file) => sentBytes.get(`${model}/${file}`) ?? 0,
    drops,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/**
 * The bundled tiny model's files (models/tiny), its weights in one file or split into `shards`
 * shards with a model.safetensors.index.json, as the hub lays out large checkpoints.
 */
export async function tinyModelFiles(o: { shards?: number; dir?: string } = {}): Promise<ModelFiles> {
  const dir = o.dir ?? 'models/tiny';
  const weights = readFileSync(`${dir}/model.safetensors`);
  const n = o.shards ?? 1;
  if (n <= 1) return { ...tokenizerFiles(dir), 'model.safetensors': new Uint8Array(weights) };
  const tensors: HostTensor[] = [];
  for await (const t of readSafetensors(chunked(weights, 1 << 16))) tensors.push(t);
  return { ...tokenizerFiles(dir), ...shardFiles(tensors, n) };
}

function tokenizerFiles(dir = 'models/tiny'): ModelFiles {
  const out: ModelFiles = {};
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) out[f] = readFileSync(`${dir}/${f}`, 'utf8');
  return out;
}

/**
 * A seeded random model with the tiny tokenizer and the tiny config changed by `overrides` (e.g. a
 * wider hidden size for a download of a few MB), in `shards` files.
 */
export function randomModelFiles(overrides: Record<string, unknown>, o: { shards?: number; seed?: number } = {}): ModelFiles {
  const base = tokenizerFiles();
  const json = { ...JSON.parse(base['config.json'] as string), ...overrides };
  const tensors = [...randomModelTensors(parseModelConfig(json), { seed: o.seed ?? 1 })];
  const n = o.shards ?? 1;
  const weights: ModelFiles = n <= 1 ? { 'model.safetensors': writeSafetensors(tensors.map(hostTensorToF16Bytes)) } : shardFiles(tensors, n);
  return { ...base, 'config.json': JSON.stringify(json), ...weights };
}

function shardFiles(tensors: HostTensor[], n: number): ModelFiles {
  const out: ModelFiles = {};
  const per = Math.ceil(tensors.length / n);
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let i = 0; i < n; i++) {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(i * per, (i + 1) * per).map(hostTensorToF16Bytes);
    for (const t of part) { weightMap[t.name] = name; total += t.data.byteLength; }
    out[name] = writeSafetensors(part);
  }
  out['model.safetensors.index.json'] = JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap });
  return out;
}

/** A random model of real size: 'small' about 37 MiB of f16 weights (3 segments of the store),
 *  'full' about 300 MiB (12 layers of width 1024), for downloads and full disks at real sizes. */
export function bigModelFiles(size: 'small' | 'full', seed = 5): ModelFiles {
  return size === 'full'
    ? randomModelFiles({ hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 64 }, { seed })
    : randomModelFiles({ hidden_size: 512, intermediate_size: 1536, num_hidden_layers: 6, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 64 }, { seed });
}

/** Total bytes of a model's files. */
export const modelBytes = (files: ModelFiles): number => Object.values(files).reduce((a, b) => a + (typeof b === 'string' ? Buffer.byteLength(b) : b.byteLength), 0);
