// Downloads that resume, over a real HTTP server on 127.0.0.1 (tests/support/model-server.ts) that
// drops the connection at random bytes: the load goes on from where each drop cut it (range
// requests), or from the start where the server ignores ranges, and the weights equal the source's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessFor } from '../../../src/data/model-download.ts';
import { chunked, readSafetensors } from '../../../src/engine/model/safetensors.ts';
import { openModel } from '../../../src/engine/model/sources.ts';
import type { HostTensor } from '../../../src/engine/model/types.ts';
import { formatBytes as fmt } from '../../../src/lib/bytes.ts';
import { mulberry32 } from '../../../src/lib/rng.ts';
import { randomModelFiles, startModelServer, type ModelServer } from '../../support/model-server.ts';

const FILES = randomModelFiles({ hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32 }, { seed: 3 });
const WEIGHTS = FILES['model.safetensors'] as Uint8Array;
let srv: ModelServer;

beforeAll(async () => { srv = await startModelServer({ m: FILES }, { rng: mulberry32(26) }); });
afterAll(() => srv.close());

async function load(signal?: AbortSignal) {
  const access = accessFor({ kind: 'url', base: srv.folder('m'), cache: false }, { signal, retryDelayMs: () => 1 });
  const m = await openModel(access);
  const got: HostTensor[] = [];
  for await (const t of m.tensors()) got.push(t);
  return { got, warnings: access.warnings ?? [] };
}

async function source(): Promise<HostTensor[]> {
  const out: HostTensor[] = [];
  for await (const t of readSafetensors(chunked(WEIGHTS, 1 << 16))) out.push(t);
  return out;
}

function expectSame(got: HostTensor[], want: HostTensor[]): void {
  expect(got.map((t) => t.name)).toEqual(want.map((t) => t.name));
  for (let i = 0; i < want.length; i++) expect(Buffer.compare(Buffer.from(got[i].packed.buffer), Buffer.from(want[i].packed.buffer)), want[i].name).toBe(0);
}

describe('a dropped download resumes', () => {
  it('with range requests from the byte each drop cut it at; every byte arrives once and the weights equal the source', async () => {
    const before = srv.sent('m', 'model.safetensors');
    const ranges0 = srv.requests.filter((r) => r.range && r.file === 'model.safetensors').length;
    const drops0 = srv.drops.length;
    srv.setDrops(12);
    const { got, warnings } = await load();
    expectSame(got, await source());
    const sent = srv.sent('m', 'model.safetensors') - before;
    console.log(`resume: ${WEIGHTS.byteLength} bytes, 12 drops at ${srv.drops.slice(drops0).map((d) => d.from + d.sent).join(', ')}; server sent ${sent} bytes`);
    expect(srv.drops.length - drops0).toBe(12);
    expect(srv.requests.filter((r) => r.range && r.file === 'model.safetensors').length - ranges0).toBe(12);
    expect(warnings.join('\n')).toContain(`model.safetensors: the connection dropped 12 times and the download resumed where it stopped each time; ${fmt(WEIGHTS.byteLength)} downloaded for a ${fmt(WEIGHTS.byteLength)} file.`);
    expect(sent).toBeGreaterThanOrEqual(WEIGHTS.byteLength);
  });

  it('from the start where the server ignores ranges, skipping what it already has', async () => {
    srv.setRanges(false);
    try {
      srv.setDrops(3);
      const { got, warnings } = await load();
      expectSame(got, await source());
      expect(warnings.join('\n')).toMatch(/model\.safetensors: the server does not resume downloads \(no HTTP range support\), so the file was fetched again from the start 3 times; [\d.]+ [KM]iB downloaded/);
    } finally { srv.setRanges(true); }
  });

  it('gives up when the server stays down, naming where the download stopped', async () => {
    srv.setDrops(1, true);
    try {
      const err = await load().then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(new RegExp(`^The download of model\\.safetensors of \\S+ broke off at [\\d.]+ [KM]?i?B of ${fmt(WEIGHTS.byteLength).replace('.', '\\.')} \\(HTTP 503; 5 tries to resume made no progress\\)`));
    } finally { srv.setDown(false); }
  });
});
