// A full disk, recognised: IndexedDB and the Cache API fail with QuotaExceededError (or an I/O
// message) when the browser's storage or the disk under it is full.

export function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  const msg = e instanceof Error ? e.message : String(e);
  // Chromium on a full disk: "IO error: .../000003.log: FILE_ERROR_NO_SPACE" (UnknownError), not always QuotaExceededError.
  return name === 'QuotaExceededError' || /quota|disk (is )?full|full disk|no space|NO_SPACE/i.test(msg);
}

/** Bytes a structured-clonable value takes, about: typed arrays by their length, strings as UTF-16. */
export function approxBytes(v: unknown, depth = 0): number {
  if (depth > 64 || v === null || v === undefined) return 8;
  if (typeof v === 'string') return 2 * v.length;
  if (typeof v !== 'object') return 8;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  let n = 16;
  if (Array.isArray(v)) for (const x of v) n += approxBytes(x, depth + 1);
  else for (const [k, x] of Object.entries(v)) n += 2 * k.length + approxBytes(x, depth + 1);
  return n;
}

/** Asks the browser not to evict this site's storage, and reports usage/quota (bytes). */
export async function storageStatus(requestPersist = false): Promise<{ persisted: boolean; usage?: number; quota?: number }> {
  const sm = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!sm) return { persisted: false };
  let persisted = (await sm.persisted?.()) ?? false;
  if (!persisted && requestPersist && sm.persist) persisted = await sm.persist();
  const est = sm.estimate ? await sm.estimate() : {};
  return { persisted, usage: est.usage, quota: est.quota };
}
