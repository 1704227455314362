/**
 * What a person watching training sees on stderr (stdout stays machine-readable logs): one line
 * per finished epoch in every mode (a terminal, CI, `| tee`, docker logs) with the training loss
 * and accuracy, the validation accuracy, images per second and the time left; on a terminal, also
 * a live bar per epoch (cli-progress) with the batches done, the running loss and accuracy and the
 * latest validation accuracy.
 */
import cliProgress from 'cli-progress';
import { formatDuration } from '../report/format-duration';

export interface EpochProgress {
  update(done: number, values: { loss: number; accuracy: number; imagesPerSecond: number }): void;
  /** The training batches are done and validation runs (until `stop`). */
  validating?(): void;
  stop(): void;
}

/** A finished epoch, as its line shows it. */
export interface EpochSummary {
  epoch: number;
  epochs: number;
  trainLoss: number;
  trainAccuracy: number;
  valAccuracy: number;
  imagesPerSecond: number;
  /** Time left for the remaining epochs at this session's mean epoch time (0 after the last). */
  etaSeconds: number;
  /** The best validation accuracy so far. */
  best: boolean;
}

export interface ProgressFactory {
  epoch(label: string, totalBatches: number): EpochProgress;
  /** Called once per finished epoch, after its validation. */
  epochDone?(summary: EpochSummary): void;
}

/** Nothing (tests, library use). */
export const NO_PROGRESS: ProgressFactory = {
  epoch: () => ({ update: () => undefined, stop: () => undefined }),
};

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * The line of a finished epoch.
 *
 * @example epochLine({ epoch: 3, epochs: 20, trainLoss: 1.2345, trainAccuracy: 0.5, valAccuracy: 0.55, imagesPerSecond: 120.4, etaSeconds: 1020, best: true })
 * // 'epoch 3/20  train loss 1.2345 acc 50.0%  val acc 55.0% (best)  120.4 img/s  ETA 17 min 0 s'
 */
export function epochLine(s: EpochSummary): string {
  return [
    `epoch ${s.epoch}/${s.epochs}`,
    `train loss ${s.trainLoss.toFixed(4)} acc ${pct(s.trainAccuracy)}`,
    `val acc ${pct(s.valAccuracy)}${s.best ? ' (best)' : ''}`,
    `${s.imagesPerSecond.toFixed(1)} img/s`,
    s.epoch < s.epochs ? `ETA ${formatDuration(s.etaSeconds)}` : 'done',
  ].join('  ');
}

/**
 * Epoch lines only: for output that is not a terminal, or `--no-progress`.
 *
 * @example lineProgress(process.stderr).epochDone?.(summary) // writes epochLine(summary) and a newline
 */
export function lineProgress(stream: NodeJS.WritableStream = process.stderr): ProgressFactory {
  return {
    epoch: NO_PROGRESS.epoch,
    epochDone: (summary) => stream.write(`${epochLine(summary)}\n`),
  };
}

/**
 * A live bar per epoch on a terminal, replaced by the epoch's line when the epoch is done.
 *
 * @example const bar = terminalProgress().epoch('epoch 3/20', 221); bar.update(1, { loss, accuracy, imagesPerSecond });
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressFactory {
  let lastVal = '-';
  return {
    epoch(label, totalBatches) {
      const bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} {bar} {value}/{total} | loss {loss} | acc {accuracy} | val {val} | {speed} img/s | ETA {eta_formatted}`,
          hideCursor: true,
          // The epoch's line takes the bar's place.
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(totalBatches, 0, { loss: '-', accuracy: '-', val: lastVal, speed: '-' });
      return {
        update(done, v) {
          bar.update(done, {
            loss: v.loss.toFixed(4),
            accuracy: pct(v.accuracy),
            speed: v.imagesPerSecond.toFixed(1),
          });
        },
        validating: () => bar.update({ val: 'validating…' }),
        stop: () => bar.stop(),
      };
    },
    epochDone(summary) {
      lastVal = pct(summary.valAccuracy);
      stream.write(`${epochLine(summary)}\n`);
    },
  };
}
