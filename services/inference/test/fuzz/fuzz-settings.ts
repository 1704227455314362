/**
 * How much fuzzing a run does. `npm test` runs a short, deterministic pass of every property (a
 * fixed seed, few runs); `npm run test:fuzz` runs the same properties much longer with a fresh seed
 * (see run-fuzz.ts). A failure prints the seed and path, which replay it exactly:
 *   FUZZ_SEED=<seed> FUZZ_PATH=<path> npx jest services/inference/test/fuzz
 */

/** Runs per property in the short pass of `npm test`. */
export const CI_RUNS = 30;
/** The short pass always uses this seed, so CI is reproducible. */
export const CI_SEED = 20_251_129;
/** Each request of a case may take this long on a busy machine (detection included). */
const CASE_BUDGET_MS = 2_000;

export interface FuzzSettings {
  runs: number;
  seed: number;
  /** fast-check's replay path of a failing case, when replaying. */
  path: string | undefined;
  /** jest timeout of one property test. */
  timeoutMs: number;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/**
 * The settings of this run, from FUZZ_RUNS, FUZZ_SEED and FUZZ_PATH.
 *
 * @example fuzzSettings({ FUZZ_RUNS: '2000' }) // { runs: 2000, seed: 20251129, ... }
 */
export function fuzzSettings(env: Record<string, string | undefined>): FuzzSettings {
  const runs = positiveInt('FUZZ_RUNS', env.FUZZ_RUNS, CI_RUNS);
  return {
    runs,
    seed: positiveInt('FUZZ_SEED', env.FUZZ_SEED, CI_SEED),
    path: env.FUZZ_PATH || undefined,
    // Every case sends the fuzzed request and a normal one.
    timeoutMs: 60_000 + runs * 2 * CASE_BUDGET_MS,
  };
}
