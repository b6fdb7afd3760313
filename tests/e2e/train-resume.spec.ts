// Training that survives a reload, end to end in Chromium (WebGPU on SwiftShader, real IndexedDB):
// train the bundled student with the sparse (importance) placement, pause and continue, reload the
// tab mid-run, find the run among the unfinished ones, load the model, resume it from its last
// checkpoint, finish, and export the adapter (its PEFT files load back with the sparse placement).
// Too long a sequence is a clear message that loses nothing; a second run reloaded mid-run is
// discarded and stays gone. A device lost mid-run leaves the run to resume after the reconnect.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { loadPeftAdapter } from '../../src/engine/adapter/lora.ts';
import { parseModelConfig } from '../../src/engine/model/config.ts';
import { tinyModelAndBundledPool, trainedRows } from './flows.ts';

// Enough steps that a pause lands mid-run on a fast machine too (CI ran 40 steps in ~10 s and
// skipped past the step-2 checkpoint between two polls).
const STEPS = 120;

/** The step of the progress line ("Step 7 / 40 · ..."), 0 before the first. */
async function stepNow(page: Page): Promise<number> {
  const m = (await page.getByTestId('train-progress').textContent())?.match(/Step (\d+) \//);
  return m ? Number(m[1]) : 0;
}

test('sparse training: pause, reload mid-run, resume from the last checkpoint, finish, export; discard another run', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('./?view=train');
  await tinyModelAndBundledPool(page);
  for (const t of ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']) await page.getByTestId(`train-target-${t}`).check();
  await page.getByTestId('train-examples').fill('3');
  await page.getByTestId('train-seqlen').fill('160');
  await page.getByTestId('train-steps').fill(String(STEPS));
  await page.getByTestId('train-lr').fill('0.05');
  await page.getByTestId('train-batch').fill('2');
  await page.getByTestId('train-checkpoint-every').fill('2');
  await page.getByTestId('train-placement-mode').selectOption('importance');
  await page.getByTestId('train-budget').fill('1');
  await page.getByTestId('train-probe-examples').fill('2');
  await page.getByTestId('train-start').click();

  const ck = page.getByTestId('train-checkpoint');
  await expect(ck).toContainText(/checkpoint at step \d+ stored/, { timeout: 180_000 });
  await expect(page.getByTestId('train-progress')).toContainText(new RegExp(`Step \\d+ / ${STEPS} · loss \\d+\\.\\d{4} · lr [\\d.]+e[-+]\\d+ · grad norm \\d+\\.\\d{4} · \\d+ tokens/s · \\d+ tokens in \\d+ micro-batch(es)? · \\d+ ms per step · GPU [\\d.]+ [KMG]i?B`));
  await expect(page.getByTestId('train-loss-kinds')).toContainText(/strategy \d+\.\d{4} · tactics (\d+\.\d{4}|–) · answer (\d+\.\d{4}|–)/);

  // pause: the run waits (a checkpoint at the paused step), then goes on
  await page.getByTestId('train-pause').click();
  await expect(page.getByTestId('train-continue')).toBeVisible();
  await expect(page.getByTestId('train-paused')).toContainText(/Paused after step \d+/, { timeout: 30_000 });
  const held = Number((await page.getByTestId('train-paused').textContent())!.match(/after step (\d+)/)![1]);
  await expect(ck).toContainText(`checkpoint at step ${held} stored`);
  expect(await stepNow(page)).toBe(held);
  await page.waitForTimeout(1500);
  expect(await stepNow(page)).toBe(held);
  expect(held).toBeLessThan(STEPS - 6);
  await page.getByTestId('train-continue').click();
  await expect.poll(() => stepNow(page), { timeout: 60_000 }).toBeGreaterThan(held);

  // reload mid-run: the run is listed with its last checkpoint
  await expect.poll(async () => Number((await ck.textContent())?.match(/checkpoint at step (\d+)/)?.[1] ?? 0), { timeout: 60_000 }).toBeGreaterThan(held);
  await page.reload();
  const run = page.getByTestId('unfinished-run');
  await expect(run).toHaveCount(1);
  const at = Number(await run.getAttribute('data-step'));
  expect(at).toBeGreaterThan(held);
  expect(at).toBeLessThan(STEPS);
  await expect(run).toContainText(`step ${at} of ${STEPS}`);
  await expect(run).toContainText('importance placement');
  await expect(run.getByTestId('unfinished-resume')).toBeDisabled();
  await expect(run.getByTestId('unfinished-needs-model')).toBeVisible();
  await page.getByTestId('train-load-bundled').click();
  await expect(page.getByTestId('train-model')).toContainText('bundled:tiny-world', { timeout: 90_000 });
  await run.getByTestId('unfinished-resume').click();
  await expect(ck).toContainText(`resumed after step ${at}`, { timeout: 60_000 });
  await expect(page.getByTestId('train-summary')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  await expect(page.getByTestId('train-summary')).toContainText(`Trained ${STEPS} steps (resumed after step ${at}) on 3 examples, 2 per step`);
  await expect(page.getByTestId('train-loss-chart')).toHaveAttribute('data-points', String(STEPS));
  await expect(page.getByTestId('train-params')).toContainText(/importance placement: [\d,]+ trainable = [\d.]+% of 136,000, \d+ modules/);
  const before = Number(await page.getByTestId('train-loss-before').textContent());
  const after = Number(await page.getByTestId('train-loss-after').textContent());
  expect(after).toBeLessThan(before);
  await expect(page.getByTestId('unfinished-run')).toHaveCount(0); // finished: nothing left to resume
  await expect(trainedRows(page)).toHaveCount(1);

  // export: the PEFT files hold the sparse placement
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('train-download').click()]);
  const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
  const cfgText = new TextDecoder().decode(files['adapter_config.json']);
  const config = parseModelConfig(readFileSync('models/tiny-world/config.json', 'utf8'), 'config.json');
  const adapter = loadPeftAdapter(config, cfgText, files['adapter_model.safetensors']);
  const placed = Number((await page.getByTestId('train-params').textContent())!.match(/(\d+) modules/)![1]);
  expect(adapter.modules).toHaveLength(placed);
  expect(placed).toBeLessThan(21); // sparse: not every (layer, module)
  expect(adapter.modules.some((m) => m.B.some((v) => v !== 0))).toBe(true);

  // bad input: a clear message, nothing stored is lost
  await page.getByTestId('train-seqlen').fill('100000');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-error')).toContainText(/sequences of 100000 tokens are longer than the model's context \(\d+ tokens\)/);
  await expect(trainedRows(page)).toHaveCount(1);
  await expect(page.getByTestId('unfinished-run')).toHaveCount(0);
  await page.getByTestId('train-seqlen').fill('160');

  // another run, reloaded mid-run, discarded: gone after a reload too
  // (the form is fresh after the reload: its defaults, manual placement; many steps so the reload comes mid-run)
  await page.getByTestId('train-steps').fill('500');
  await page.getByTestId('train-checkpoint-every').fill('2');
  await page.getByTestId('train-start').click();
  await expect(ck).toContainText(/checkpoint at step \d+ stored/, { timeout: 120_000 });
  await page.reload();
  await expect(page.getByTestId('unfinished-run')).toHaveCount(1);
  await page.getByTestId('unfinished-discard').click();
  await expect(page.getByTestId('unfinished-run')).toHaveCount(0);
  await page.reload();
  await expect(trainedRows(page)).toHaveCount(1);
  await expect(page.getByTestId('unfinished-run')).toHaveCount(0);
});

test('a device lost mid-run: clear message, the run kept as unfinished, resumed after the reconnect', async ({ page }) => {
  test.setTimeout(420_000);
  await page.goto('./?view=train');
  await tinyModelAndBundledPool(page);
  await page.getByTestId('train-examples').fill('2');
  await page.getByTestId('train-seqlen').fill('160');
  await page.getByTestId('train-steps').fill('500');
  await page.getByTestId('train-checkpoint-every').fill('2');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-checkpoint')).toContainText(/checkpoint at step \d+ stored/, { timeout: 120_000 });
  // the loss, from the Models view's device panel (training goes on in the worker meanwhile)
  await page.locator('a[data-view=models]').click();
  await page.getByTestId('simulate-loss').click();
  await expect(page.getByTestId('gpu-lost')).toBeVisible({ timeout: 30_000 });
  await page.locator('a[data-view=train]').click();
  await expect(page.getByTestId('train-error')).toContainText(/^The GPU device was lost .*so this stopped/, { timeout: 60_000 });
  await expect(page.getByTestId('train-error')).not.toContainText(/mapAsync|GPUBuffer|Failed to execute/);
  const run = page.getByTestId('unfinished-run');
  await expect(run).toHaveCount(1);
  await expect(run).toContainText('interrupted');
  const at = Number(await run.getAttribute('data-step'));
  expect(at).toBeGreaterThanOrEqual(2);
  await expect(run.getByTestId('unfinished-resume')).toBeDisabled(); // the model went with the device
  await page.getByTestId('gpu-reconnect').click();
  await expect(page.getByTestId('gpu-lost')).toHaveCount(0, { timeout: 90_000 });
  await expect(run.getByTestId('unfinished-resume')).toBeEnabled({ timeout: 30_000 });
  await run.getByTestId('unfinished-resume').click();
  await expect(page.getByTestId('train-checkpoint')).toContainText(`resumed after step ${at}`, { timeout: 60_000 });
  await expect.poll(async () => Number((await page.getByTestId('train-progress').textContent())?.match(/Step (\d+) \//)?.[1] ?? 0), { timeout: 60_000 }).toBeGreaterThan(at);
  await page.getByTestId('train-cancel').click();
  await expect(page.getByTestId('train-summary')).toContainText(/Cancelled after \d+ steps \(resumed after step \d+\)/, { timeout: 60_000 });
  await expect(page.getByTestId('unfinished-run')).toHaveCount(0);
});
