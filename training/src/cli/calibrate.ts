/**
 * `npm run calibrate -- --model REGISTRY/NAME[@V] --data DIR` (usage: --help).
 *
 * Prints the temperature and the calibration before and after, on the validation images it was
 * fitted on and on the test split, on stdout; logs (pino JSON) go to stderr.
 */
import path from 'node:path';
import { selectTrainingBackend } from '../backend';
import { runCalibrate } from '../calibration/calibrate-job';
import { CALIBRATE_USAGE, parseCalibrateArgs } from '../calibration/calibrate-options';
import { formatCalibration, formatMetrics, pct } from '../metrics/format-metrics';
import { biasText, temperatureText } from '../report/calibration-section';
import { table } from '../report/markdown-table';
import { codeRevision } from '../train/code-revision';
import { createLogger } from '../train/logger';

const REPO_ROOT = path.resolve(__dirname, '../../..');

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(CALIBRATE_USAGE);
    return 0;
  }
  let options;
  try {
    options = parseCalibrateArgs(argv, { cwd: process.env.INIT_CWD ?? process.cwd(), repoRoot: REPO_ROOT });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const log = createLogger({ job: 'calibrate', destination: process.stderr });
  await selectTrainingBackend();
  try {
    const result = await runCalibrate(options, {
      log,
      command: `npm run calibrate -- ${argv.join(' ')}`,
      codeRevision: codeRevision(REPO_ROOT),
    });
    const { info, validation } = result.fit;
    const row = (label: string, m: { ece: number; nll: number; brier: number }, accuracy?: number) => [
      label,
      pct(m.ece),
      m.nll.toFixed(4),
      m.brier.toFixed(4),
      accuracy === undefined ? '' : pct(accuracy),
    ];
    console.log(`temperature (${info.applied_to}): ${temperatureText(info.temperature)}`);
    if (info.bias) console.log(`bias: ${biasText(info.bias)}`);
    console.log(
      table(
        ['images', 'ECE', 'NLL', 'Brier', 'accuracy'],
        [
          row('validation, before', validation.before),
          row('validation, after', validation.after, result.validation.accuracy),
          row(
            `test, ${result.source.name} v${result.source.version}`,
            result.sourceTest.calibration!,
            result.sourceTest.accuracy,
          ),
          row(`test, ${result.name} v${result.version}`, result.test.calibration!, result.test.accuracy),
        ],
      ),
    );
    console.log(`\nbefore:\n${formatCalibration(result.sourceTest.calibration!)}`);
    console.log(`\n${formatMetrics(result.test)}`);
    console.log(`\npublished ${result.name} v${result.version} -> ${result.dir}`);
    return 0;
  } catch (error) {
    log.error({ err: error }, 'calibration failed');
    console.error(error instanceof Error ? error.message : error);
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
