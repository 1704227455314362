/**
 * `npm run test:fuzz`: the /predict fuzz properties (predict-fuzz.test.ts) for many more runs than
 * the short deterministic pass inside `npm test`, with a fresh seed unless one is given, then a
 * summary of what was sent and answered. A failure prints fast-check's seed and path; pass both
 * back to replay exactly that case.
 *
 *   npm run test:fuzz                          # 1000 runs per property, random seed
 *   npm run test:fuzz -- --runs 5000 --seed 42
 *   npm run test:fuzz -- --seed 42 --path 117:3  # replay a reported failure
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const DEFAULT_RUNS = 1000;
const REPO_ROOT = path.resolve(__dirname, '../../../..');
const FUZZ_DIR = path.relative(REPO_ROOT, __dirname);

function main(): number {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: String(DEFAULT_RUNS) },
      seed: { type: 'string' },
      path: { type: 'string' },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-fuzz-'));
  const reportFile = path.join(dir, 'report.json');
  console.log(
    `fuzzing POST /predict: ${runs} runs per property, seed ${seed}${values.path ? `, path ${values.path}` : ''}`,
  );
  try {
    const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--runInBand', FUZZ_DIR], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        FUZZ_RUNS: String(runs),
        FUZZ_SEED: seed,
        FUZZ_PATH: values.path ?? '',
        FUZZ_REPORT_FILE: reportFile,
      },
    });
    try {
      const report = JSON.parse(readFileSync(reportFile, 'utf8'));
      console.log(`\nfuzz summary (seed ${seed}): ${report.cases} cases, each followed by a normal request`);
      for (const [property, outcomes] of Object.entries(
        report.outcomes as Record<string, Record<string, number>>,
      )) {
        const list = Object.entries(outcomes)
          .sort(([, a], [, b]) => b - a)
          .map(([outcome, n]) => `${outcome}: ${n}`)
          .join(', ');
        console.log(`  ${property.padEnd(10)} ${list}`);
      }
      if (report.memory) {
        const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
        const { baseline, after } = report.memory;
        console.log(
          `  memory     heap ${mb(baseline.heap)} -> ${mb(after.heap)} MB, rss ${mb(baseline.rss)} -> ${mb(after.rss)} MB, ` +
            `detector tensors ${baseline.tensors} -> ${after.tensors}`,
        );
      }
    } catch {
      console.log('\n(no fuzz summary: the run stopped before writing it)');
    }
    if (jest.status !== 0)
      console.log(`\nreplay: npm run test:fuzz -- --runs ${runs} --seed ${seed} --path <path above>`);
    return jest.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
