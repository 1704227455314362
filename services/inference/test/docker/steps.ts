/**
 * The steps of the Docker test, each timed and printed as it ends, with the table of durations and
 * the closing `docker: N passed, N failed` line at the end. A failed step skips the ones that depend
 * on what it was to make; cleanup steps always run.
 */

export interface StepResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  detail: string;
}

/** `12.3 s` or `1 min 04 s`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, '0')} s`;
}

/**
 * The closing table and line.
 *
 * @example summaryLines([{ name: 'build', status: 'passed', ms: 1200, detail: '' }]).at(-1) // 'docker: 1 passed, 0 failed'
 */
export function summaryLines(results: readonly StepResult[], totalMs?: number): string[] {
  const width = Math.max(...results.map((r) => r.name.length), 4);
  const lines = results.map(
    (r) => `  ${r.name.padEnd(width)}  ${r.status.padEnd(7)}  ${formatDuration(r.ms).padStart(10)}`,
  );
  if (totalMs !== undefined)
    lines.push(`  ${'total'.padEnd(width)}  ${''.padEnd(7)}  ${formatDuration(totalMs).padStart(10)}`);
  const count = (status: StepResult['status']) => results.filter((r) => r.status === status).length;
  const skipped = count('skipped');
  lines.push(
    `docker: ${count('passed')} passed, ${count('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`,
  );
  return lines;
}

export class Steps {
  readonly results: StepResult[] = [];

  /** True once any step failed. */
  get failed(): boolean {
    return this.results.some((r) => r.status === 'failed');
  }

  /**
   * Runs `body` as a step unless an earlier step failed (then it is skipped) or `always` is set.
   * What `body` returns is printed after the step's name.
   */
  async run(name: string, body: () => Promise<string | void>, always = false): Promise<boolean> {
    if (this.failed && !always) {
      this.results.push({ name, status: 'skipped', ms: 0, detail: 'an earlier step failed' });
      console.log(`- ${name}: skipped (an earlier step failed)`);
      return false;
    }
    console.log(`▶ ${name}`);
    const started = Date.now();
    try {
      const detail = (await body()) ?? '';
      const ms = Date.now() - started;
      this.results.push({ name, status: 'passed', ms, detail });
      console.log(`✔ ${name} (${formatDuration(ms)})${detail ? `: ${detail}` : ''}`);
      return true;
    } catch (error) {
      const ms = Date.now() - started;
      const detail = (error as Error).message;
      this.results.push({ name, status: 'failed', ms, detail });
      console.log(`✘ ${name} (${formatDuration(ms)}): ${detail}`);
      return false;
    }
  }
}
