import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { HorizontalFlip, loadLayersModel, saveLayersModel, selectBackend } from '../../src/tfjs';

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('HorizontalFlip', () => {
  it('mirrors each image left to right and nothing else', () => {
    // 1 image, 2 rows, 3 columns, 2 channels: values encode (row, column, channel).
    const x = tf.tensor4d(
      Array.from({ length: 12 }, (_, i) => i),
      [1, 2, 3, 2],
    );
    const y = new HorizontalFlip({ name: 'flip' }).apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 2, 3, 2]);
    expect(Array.from(y.dataSync())).toEqual([4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7]);
    tf.dispose([x, y]);
  });

  it('survives a save and load of the model folder (the class is registered on import)', async () => {
    const input = tf.input({ shape: [2, 3, 1], name: 'input' });
    const output = new HorizontalFlip({ name: 'input.mirror' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-flip-'));
    try {
      await saveLayersModel(model, dir);
      const loaded = await loadLayersModel(dir);
      expect(loaded.getLayer('input.mirror')).toBeInstanceOf(HorizontalFlip);
      const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
      const y = loaded.predict(x) as tf.Tensor;
      expect(Array.from(y.dataSync())).toEqual([3, 2, 1, 6, 5, 4]);
      tf.dispose([x, y]);
      loaded.dispose();
    } finally {
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
