/**
 * Value formats the provincial dialects use. Pure. Times are China Standard Time (UTC+8, no
 * daylight saving), which is what the provincial platforms print.
 */

const chinaOffsetMs = 8 * 3600 * 1000;

/** `2027-01-01T08:00:00` in China time, without offset. */
function chinaClock(epochSeconds: number): string {
  return new Date(epochSeconds * 1000 + chinaOffsetMs).toISOString().slice(0, 19);
}

/** `yyyyMMddHHmmss` (the Zhejiang platform's time format). */
export function compactChinaTime(epochSeconds: number): string {
  return chinaClock(epochSeconds).replace(/\D/g, '');
}

/** `yyyy-MM-dd HH:mm:ss`. */
export function plainChinaTime(epochSeconds: number): string {
  return chinaClock(epochSeconds).replace('T', ' ');
}

/** ISO 8601 with the `+08:00` offset. */
export function isoChinaTime(epochSeconds: number): string {
  return `${chinaClock(epochSeconds)}+08:00`;
}

/** `1985-03-15` → `19850315`. */
export function compactDate(isoDate: string): string {
  return isoDate.replace(/-/g, '');
}

/** `['tax', 'social_insurance']` → `tax,social_insurance`, for dialects that carry lists as text. */
export function commaList(values: readonly string[]): string {
  return values.join(',');
}
