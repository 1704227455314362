/**
 * A progress bar per epoch (cli-progress, on stderr so stdout stays machine-readable logs):
 * batches done, running loss and accuracy, images per second and the time left.
 */
import cliProgress from 'cli-progress';

export interface EpochProgress {
  update(done: number, values: { loss: number; accuracy: number; imagesPerSecond: number }): void;
  stop(): void;
}

export interface ProgressFactory {
  epoch(label: string, totalBatches: number): EpochProgress;
}

/** No bar (non-interactive output, tests). */
export const NO_PROGRESS: ProgressFactory = {
  epoch: () => ({ update: () => undefined, stop: () => undefined }),
};

/**
 * Bars drawn on `stream` (stderr by default).
 *
 * @example const bar = terminalProgress().epoch('epoch 3/20', 221); bar.update(1, { loss, accuracy, imagesPerSecond });
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressFactory {
  return {
    epoch(label, totalBatches) {
      const bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} {bar} {value}/{total} | loss {loss} | acc {accuracy} | {speed} img/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(totalBatches, 0, { loss: '-', accuracy: '-', speed: '-' });
      return {
        update(done, v) {
          bar.update(done, {
            loss: v.loss.toFixed(4),
            accuracy: `${(v.accuracy * 100).toFixed(1)}%`,
            speed: v.imagesPerSecond.toFixed(1),
          });
        },
        stop: () => bar.stop(),
      };
    },
  };
}
