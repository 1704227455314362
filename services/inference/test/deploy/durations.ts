/**
 * Go-style durations ("30s", "1m30s", "250ms"), the format of Dockerfile HEALTHCHECK flags and of
 * Compose's stop_grace_period, so the deploy tests can compare them with the service's milliseconds.
 */
const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * @example durationMs('1m30s') // 90000
 * @throws Error for text that is not a duration.
 */
export function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`"${text}" is not a duration`);
  }
  return parts.reduce((total, [, value, unit]) => total + Number(value) * UNIT_MS[unit], 0);
}
