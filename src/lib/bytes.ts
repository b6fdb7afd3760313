// The one byte formatter: binary units (KiB = 1024 B), three significant digits, one space before
// the unit. "12 B", "39.1 KiB", "942 MiB", "1.17 GiB", "1 GiB", "14 GiB".
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} B`;
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
  if (u === 0) return `${sign}${Math.round(v)} B`;
  let text = v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  if (Number(text) >= 1000 && u < UNITS.length - 1) { // 1000..1023.x: show as 0.98 of the next unit
    v /= 1024;
    u++;
    text = v.toFixed(2);
  }
  if (text.includes('.')) text = text.replace(/\.?0+$/, '');
  return `${sign}${text} ${UNITS[u]}`;
}
