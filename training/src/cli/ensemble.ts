/**
 * `npm run ensemble -- --member REGISTRY/NAME@V --member ... --data DIR --name NAME` (usage: --help).
 *
 * Prints each member's and the ensemble's validation and test scores on stdout; logs (pino JSON)
 * go to stderr.
 */
import path from 'node:path';
import { selectTrainingBackend } from '../backend';
import { runEnsemble } from '../ensemble/ensemble-job';
import { ENSEMBLE_USAGE, parseEnsembleArgs } from '../ensemble/ensemble-options';
import { formatMetrics, pct } from '../metrics/format-metrics';
import { table } from '../report/report-markdown';
import { codeRevision } from '../train/code-revision';
import { createLogger } from '../train/logger';
import { reportFailure } from './job-failure';

const REPO_ROOT = path.resolve(__dirname, '../../..');

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(ENSEMBLE_USAGE);
    return 0;
  }
  let options;
  try {
    options = parseEnsembleArgs(argv, { cwd: process.env.INIT_CWD ?? process.cwd(), repoRoot: REPO_ROOT });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const log = createLogger({ job: 'ensemble', destination: process.stderr });
  await selectTrainingBackend();
  try {
    const result = await runEnsemble(options, {
      log,
      command: `npm run ensemble -- ${argv.join(' ')}`,
      codeRevision: codeRevision(REPO_ROOT),
    });
    const row = (name: string, v: { accuracy: number; macro_f1: number }, t: typeof v) => [
      name,
      pct(v.accuracy),
      pct(v.macro_f1),
      pct(t.accuracy),
      pct(t.macro_f1),
    ];
    console.log(
      table(
        ['model', 'val acc', 'val F1', 'test acc', 'test F1'],
        [
          ...result.members.map((m) => row(m.label, m.validation, m.test)),
          row('ensemble', result.validation, result.test),
        ],
      ),
    );
    console.log(`\n${formatMetrics(result.test)}`);
    console.log(`\npublished ${result.name} v${result.version} -> ${result.dir}`);
    return 0;
  } catch (error) {
    reportFailure(log, error, 'ensemble failed');
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
