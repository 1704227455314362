/** Durations in reports: "42 s", "3 min 5 s", "2 h 10 min". */

/**
 * @example formatDuration(75) // '1 min 15 s'
 */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}
