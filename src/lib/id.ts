// Record ids: `${prefix}-${time base36}-${random base36}`, sortable by creation time within a
// prefix and unique enough for one browser profile's IndexedDB.

/** A new id such as "pool-mf3k2x1a-4gq9z1". */
export function newId(prefix: string, now: number = Date.now(), random: () => number = Math.random): string {
  return `${prefix}-${now.toString(36)}-${Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')}`;
}
