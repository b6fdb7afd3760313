// Every architecture the engine implements, by config.json class: adding one is a spec file
// (model/arch-<name>.ts; model/arch.ts says what a spec holds) listed here, plus its tests.
import type { ArchSpec } from './arch.ts';
import type { Architecture } from './types.ts';
import { gemma3 } from './arch-gemma3.ts';
import { llama } from './arch-llama.ts';
import { qwen2 } from './arch-qwen2.ts';
import { qwen3 } from './arch-qwen3.ts';
import { smollm3 } from './arch-smollm3.ts';

export const ARCH_SPECS: readonly ArchSpec[] = [qwen2, llama, qwen3, smollm3, gemma3];

export function archSpec(a: Architecture): ArchSpec {
  const s = ARCH_SPECS.find((x) => x.architecture === a);
  if (!s) throw new Error(`internal: no arch spec for ${a}`);
  return s;
}
