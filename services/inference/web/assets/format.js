/** How numbers read on the page: percentages, durations, sizes, dates (English, like the page). */

const LOCALE = 'en';

/**
 * @param {number} value a share between 0 and 1
 * @param {number} [digits]
 * @example percent(0.8213) // '82.1%'
 */
export function percent(value, digits = 1) {
  return `${(value * 100).toFixed(digits)}%`;
}

/**
 * @param {number} milliseconds
 * @example milliseconds(84.2) // '84 ms'; milliseconds(1234) // '1.23 s'
 */
export function milliseconds(milliseconds) {
  if (milliseconds < 10) return `${milliseconds.toFixed(1)} ms`;
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  return `${(milliseconds / 1000).toFixed(2)} s`;
}

/**
 * @param {number} seconds
 * @example duration(75) // '1 min 15 s'
 */
export function duration(seconds) {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/**
 * @param {number} n
 * @example count(8110) // '8,110'
 */
export function count(n) {
  return n.toLocaleString(LOCALE);
}

/**
 * @param {number} n
 * @example compactCount(58_000_000) // '58M'
 */
export function compactCount(n) {
  return new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

/**
 * @param {number} bytes
 * @example fileSize(23303) // '23.3 kB'
 */
export function fileSize(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * @param {string} iso
 * @example dateTime('2026-11-29T13:36:36Z') // '29 Nov 2026, 13:36'
 */
export function dateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(LOCALE, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}
