/**
 * `npm run evaluate -- --model NAME[@VERSION] --data DIR [--split test]` (usage: --help).
 *
 * Prints the metrics table on stdout and writes the JSON report; logs (pino JSON) go to stderr.
 */
import path from 'node:path';
import { ModelNotFoundError } from '@fer/shared';
import { runEvaluation } from '../evaluate/evaluate-job';
import { EVALUATE_USAGE, parseEvaluateArgs } from '../evaluate/evaluate-options';
import { formatMetrics } from '../metrics/format-metrics';
import { createLogger } from '../train/logger';
import { scratchRegistry } from '../scratch-registry';
import { reportFailure } from './job-failure';

const REPO_ROOT = path.resolve(__dirname, '../../..');

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(EVALUATE_USAGE);
    return 0;
  }
  let options;
  try {
    options = parseEvaluateArgs(process.argv.slice(2), {
      cwd: process.env.INIT_CWD ?? process.cwd(),
      repoRoot: REPO_ROOT,
    });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const log = createLogger({ job: 'evaluate', destination: process.stderr });
  try {
    const result = await runEvaluation(options, log);
    console.log(`${result.model.name} v${result.model.version} on ${result.data.root}`);
    console.log(formatMetrics(result.metrics));
    if (result.skipped.length > 0) console.log(`\n${result.skipped.length} unreadable images skipped`);
    console.log(
      `\n${result.timings.images_per_s.toFixed(1)} images/s in onnxruntime; preprocessing ${result.timings.preprocess_s.toFixed(1)} s`,
    );
    console.log(`JSON: ${result.out}`);
    console.log(`reliability diagram: ${result.chart} (and .png)`);
    return 0;
  } catch (error) {
    reportFailure(log, error, 'evaluation failed');
    if (error instanceof ModelNotFoundError) {
      console.error(
        `(looked in ${options.registry}; npm run train and npm run ensemble publish into ` +
          `${scratchRegistry(REPO_ROOT)} unless --registry says otherwise: pass --registry to evaluate)`,
      );
    }
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
