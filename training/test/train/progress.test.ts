import { PassThrough } from 'node:stream';
import { epochLine, lineProgress, terminalProgress, type EpochSummary } from '../../src/train/progress';

const summary = (epoch: number, valAccuracy: number): EpochSummary => ({
  epoch,
  epochs: 3,
  trainLoss: 1.23456,
  trainAccuracy: 0.5,
  valAccuracy,
  imagesPerSecond: 120.44,
  etaSeconds: (3 - epoch) * 61,
  best: epoch === 1,
});

/** A stream that collects what is written to it; `tty` makes it look like a terminal. */
function sink(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number };
  stream.isTTY = tty;
  stream.columns = 200;
  const chunks: Buffer[] = [];
  (stream as unknown as PassThrough).on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('epochLine', () => {
  it('says the training loss and accuracy, the validation accuracy, images/s and the time left', () => {
    expect(epochLine(summary(1, 0.55))).toBe(
      'epoch 1/3  train loss 1.2346 acc 50.0%  val acc 55.0% (best)  120.4 img/s  ETA 2 min 2 s',
    );
    expect(epochLine(summary(3, 0.6))).toBe(
      'epoch 3/3  train loss 1.2346 acc 50.0%  val acc 60.0%  120.4 img/s  done',
    );
  });
});

describe('lineProgress (not a terminal)', () => {
  it('writes exactly one line per epoch and nothing per batch', async () => {
    const out = sink(false);
    const progress = lineProgress(out.stream);
    for (const epoch of [1, 2]) {
      const bar = progress.epoch(`epoch ${epoch}/3`, 4);
      for (let done = 1; done <= 4; done++) bar.update(done, { loss: 1, accuracy: 0.5, imagesPerSecond: 10 });
      bar.validating?.();
      bar.stop();
      progress.epochDone?.(summary(epoch, 0.5 + epoch / 100));
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.text().split('\n')).toEqual([epochLine(summary(1, 0.51)), epochLine(summary(2, 0.52)), '']);
  });
});

describe('terminalProgress', () => {
  it("shows the latest validation accuracy in the live bar, and each finished epoch's line", async () => {
    const out = sink(true);
    const progress = terminalProgress(out.stream);
    const first = progress.epoch('epoch 1/3', 4);
    first.update(4, { loss: 1, accuracy: 0.5, imagesPerSecond: 10 });
    first.stop();
    progress.epochDone?.(summary(1, 0.55));
    const second = progress.epoch('epoch 2/3', 4);
    second.stop();
    await new Promise((resolve) => setImmediate(resolve));
    const text = out.text();
    expect(text).toContain('| val - |');
    expect(text).toContain(`${epochLine(summary(1, 0.55))}\n`);
    // The next epoch's bar starts with the validation accuracy of the one before.
    expect(text.slice(text.indexOf('epoch 2/3'))).toContain('| val 55.0% |');
  });
});
