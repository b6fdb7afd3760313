// API keys: in this page's memory by default (gone on reload). "Remember on this device" writes
// to IndexedDB (`teacherKeys`, encrypted with a non-extractable AES-GCM key) only after the panel's
// explicit warning was confirmed. A key is
// never put in a job record, trace, export, share link, log or error message.
import { forgetKey, getRememberedKey, keySlot, rememberKey } from './storage-client.ts';

const memory = new Map<string, string>();

export const REMEMBER_WARNING =
  'Remembering stores this API key in this browser\'s IndexedDB on this device, encrypted (AES-GCM) with a key the browser keeps ' +
  'and never lets any script export, so the disk holds only ciphertext. The app itself can still decrypt it: anyone who uses this browser profile ' +
  '(or a malicious extension or script on this site) could use it and spend money on your account. Use a key with a spending limit, and do not do ' +
  'this on a shared computer. Remember the key?';

export function memoryKey(provider: string, baseUrl: string): string | undefined {
  return memory.get(keySlot(provider, baseUrl));
}

export function setMemoryKey(provider: string, baseUrl: string, key: string): void {
  const slot = keySlot(provider, baseUrl);
  if (key) memory.set(slot, key); else memory.delete(slot);
}

/** The key for a teacher: memory first, then a remembered one. */
export async function loadKey(provider: string, baseUrl: string): Promise<{ key: string; remembered: boolean } | undefined> {
  const m = memoryKey(provider, baseUrl);
  const slot = keySlot(provider, baseUrl);
  const r = await getRememberedKey(slot).catch(() => undefined);
  if (m) return { key: m, remembered: r === m };
  if (r) { memory.set(slot, r); return { key: r, remembered: true }; }
  return undefined;
}

/** Store the key on this device; `confirmed` must come from the user accepting REMEMBER_WARNING. */
export async function rememberOnDevice(provider: string, baseUrl: string, key: string, confirmed: boolean): Promise<void> {
  if (!confirmed) throw new Error('Not remembered: the warning was not confirmed.');
  await rememberKey(keySlot(provider, baseUrl), key);
}

export async function forgetOnDevice(provider: string, baseUrl: string): Promise<void> {
  await forgetKey(keySlot(provider, baseUrl));
}
