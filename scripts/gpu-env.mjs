#!/usr/bin/env node
// Runs a command with WebGPU available in Node (npm `webgpu` = Dawn) or a browser test that needs
// Debian's Chromium. Dawn needs a Vulkan loader and ICD; Debian's chromium ships both
// (libvulkan.so.1 + SwiftShader) under /usr/lib/chromium. LD_LIBRARY_PATH is read by the dynamic
// loader at process start, so it has to be set here, before the test runner starts.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const libdir = process.env.CHROMIUM_LIB_DIR ?? '/usr/lib/chromium';
if (!existsSync(chromium) || !existsSync(`${libdir}/vk_swiftshader_icd.json`)) {
  console.error(
    `\nNo Chromium found at ${chromium} (with SwiftShader under ${libdir}).\n` +
      'The kernel and end-to-end tests need Debian\'s Chromium (it also provides the Vulkan\n' +
      'SwiftShader driver that WebGPU uses in Node). Install it with:\n\n' +
      '    sudo apt-get update && sudo apt-get install -y chromium\n\n' +
      'or point CHROMIUM_PATH (and CHROMIUM_LIB_DIR) at an installed one. No browser is downloaded.\n',
  );
  process.exit(1);
}
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) process.exit(0);
const env = {
  ...process.env,
  CHROMIUM_PATH: chromium,
  VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? `${libdir}/vk_swiftshader_icd.json`,
  LD_LIBRARY_PATH: [libdir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
};
const r = spawnSync(cmd, args, { stdio: 'inherit', env, shell: false });
process.exit(r.status ?? 1);
