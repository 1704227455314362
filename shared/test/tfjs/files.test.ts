import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModel, MODEL_JSON_FILE, saveLayersModel, selectBackend } from '../../src/tfjs';

/** A small model with every weight kind a backbone has (conv kernel, BN statistics, dense bias). */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3], name: 'input' });
  let x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, useBias: false, name: 'conv', kernelInitializer: 'glorotNormal' })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .batchNormalization({ name: 'bn', movingVarianceInitializer: tf.initializers.constant({ value: 2 }) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dense({ units: 6, name: 'fc', biasInitializer: 'randomNormal' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

describe('saveLayersModel / loadLayersModel', () => {
  let dir: string;
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fer-tfjs-files-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips topology and weights through several shards', async () => {
    const model = smallModel();
    // 64-byte shards split tensors across files: the loader must concatenate them in order.
    await saveLayersModel(model, dir, { shardBytes: 64 });
    const files = await readdir(dir);
    const shards = files.filter((f) => f.endsWith('.bin'));
    expect(files).toContain(MODEL_JSON_FILE);
    expect(shards.length).toBeGreaterThan(3);

    const loaded = await loadLayersModel(dir);
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const after = loaded.getWeights().map((w) => Array.from(w.dataSync()));
    expect(after).toEqual(before);

    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 3);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('names the folder when model.json is missing', async () => {
    await expect(loadLayersModel(dir)).rejects.toThrow(
      new RegExp(`cannot read the TF.js model .*${MODEL_JSON_FILE}`),
    );
  });

  it('notices a truncated weight file', async () => {
    const model = smallModel();
    await saveLayersModel(model, dir);
    const shard = (await readdir(dir)).find((f) => f.endsWith('.bin')) as string;
    await truncate(path.join(dir, shard), 8);
    await expect(loadLayersModel(dir)).rejects.toThrow(/hold 8 bytes, model.json lists \d+/);
    model.dispose();
  });

  it('refuses weight paths that leave the folder', async () => {
    const model = smallModel();
    await saveLayersModel(model, dir);
    const jsonPath = path.join(dir, MODEL_JSON_FILE);
    const json = JSON.parse(await readFile(jsonPath, 'utf8'));
    json.weightsManifest[0].paths = ['../../etc/passwd'];
    await writeFile(jsonPath, JSON.stringify(json));
    await expect(loadLayersModel(dir)).rejects.toThrow(/outside its folder/);
    model.dispose();
  });
});
