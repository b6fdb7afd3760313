// The bundled tiny model's weights on the CPU (HostTensors, packed f16), read the way the loader
// reads them; for reference-model tests in both the unit and kernel layers.
import { readFileSync } from 'node:fs';
import { chunked, readSafetensors } from '../../src/engine/model/safetensors.ts';
import type { HostTensor } from '../../src/engine/model/types.ts';

export async function readTinyTensors(dir = 'models/tiny'): Promise<HostTensor[]> {
  const out: HostTensor[] = [];
  for await (const t of readSafetensors(chunked(readFileSync(`${dir}/model.safetensors`), 4096))) out.push(t);
  return out;
}
