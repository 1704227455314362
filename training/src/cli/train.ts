/**
 * `npm run train -- --backbone resnet152|densenet161|all --data DIR [...]` (usage: --help).
 *
 * Structured logs (pino JSON) go to stdout; count tables, a line per epoch (and on a terminal a
 * live bar) and the final metrics go to stderr for the person watching. Ctrl-C stops between two batches; the checkpoint of the last
 * complete epoch stays, and the same command with --resume continues from it.
 */
import path from 'node:path';
import { selectTrainingBackend } from '../backend';
import { codeRevision } from '../train/code-revision';
import { createLogger } from '../train/logger';
import { lineProgress, terminalProgress } from '../train/progress';
import { runTraining } from '../train/run-training';
import { TrainingAbortedError } from '../train/train-loop';
import { parseTrainArgs, TRAIN_USAGE } from '../train/train-options';
import { reportFailure } from './job-failure';

const REPO_ROOT = path.resolve(__dirname, '../../..');

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(TRAIN_USAGE);
    return 0;
  }
  let options;
  try {
    // npm runs scripts from the package root; INIT_CWD is where the user typed the command.
    options = parseTrainArgs(argv, { cwd: process.env.INIT_CWD ?? process.cwd(), repoRoot: REPO_ROOT });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const log = createLogger({ job: 'train', level: options.logLevel });
  const backend = await selectTrainingBackend(options.backend ?? undefined);
  log.info(
    { backend: backend.name, nativePackage: backend.nativePackage, skipped: backend.skipped },
    'TF.js backend selected',
  );

  const controller = new AbortController();
  process.once('SIGINT', () => {
    console.error('\nstopping after this batch; rerun the same command with --resume to continue');
    controller.abort();
  });
  try {
    const outcome = await runTraining(options, {
      log,
      // A line per epoch always; the live bar only on a terminal (CI logs, `| tee` and docker logs
      // would keep every redraw).
      progress: options.progress && process.stderr.isTTY ? terminalProgress() : lineProgress(),
      print: (text) => console.error(text),
      backend: backend.name,
      command: `npm run train -- ${argv.join(' ')}`,
      codeRevision: codeRevision(REPO_ROOT),
      signal: controller.signal,
    });
    for (const r of outcome.results) {
      console.error(
        `published ${r.name} v${r.version}: test accuracy ${(r.metrics.accuracy * 100).toFixed(1)}%, ` +
          `macro-F1 ${(r.metrics.macro_f1 * 100).toFixed(1)}% -> ${r.dir}`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof TrainingAbortedError) {
      log.warn(error.message);
      return 130;
    }
    reportFailure(log, error, 'training failed');
    if (backend.name === 'wasm' && /Aborted\(|memory access out of bounds/.test(String(error))) {
      // The wasm backend's heap is limited to 4 GB; a large network's activations at batch 128 exceed it.
      console.error('the wasm backend ran out of memory: pass --micro-batch 32 (or a smaller --batch-size)');
    }
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
