// The parity requirement on the real builders: the same weights give the same probabilities
// in TF.js and in ONNX Runtime, for reduced configs of both families and full-size resnet152 and
// densenet161 with random weights, at batch sizes 1 and 5. Batch norms are calibrated on a random
// batch first, so that the random networks give varied probabilities (one-hot ones would agree
// trivially).
//
// The full-size networks are made by the make-model CLI in a child process: jest runs test code in
// a vm context whose global lookups are ~30x slower, which makes TF.js's JavaScript weight
// initialisation of 60M parameters take most of a minute here instead of seconds. The test loads
// the published tfjs/ folder (@fer/shared/tfjs) and exports it again in process.
//
// Float32 rounding grows with depth: on a calibrated random resnet152, TF.js's own wasm and cpu
// backends disagree by 2e-4..6e-4 in probability (relative logit error ~7e-4 after 50 residual
// blocks), so the 1e-4 bound can only hold where logits are small. The full-size heads are scaled
// by HEAD_SCALE, which keeps the probabilities apart (about 0.14..0.20 here) while any translation
// error (a wrong pad, axis or fold moves logits by percents) still shows far above the bound.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES, ONNX_FILE, TFJS_DIR } from '@fer/shared';
import { loadLayersModel, selectBackend } from '@fer/shared/tfjs';
import { buildBackbone } from '../../src/backbones';
import { calibrateBatchNorm } from '../../src/export/calibrate-batch-norm';
import { exportToOnnx } from '../../src/export/onnx';
import { maxAbsDiff, ortSession, PARITY_TOLERANCE, randomInput, runOrt, runTfjs } from './parity-helpers';

const REDUCED_INPUT_SIZE = 32;
/** The service's default input size; deep random features also need a few pixels left at the end. */
const FULL_SIZE_INPUT_SIZE = 64;
const REDUCED_TIMEOUT_MS = 30_000;
/** make-model of a 60M-parameter network plus loading it twice, on a busy 2-core CI machine. */
const FULL_SIZE_TIMEOUT_MS = 150_000;
/** Scale of the full-size classifier weights; see the file comment. */
const HEAD_SCALE = 0.15;
/** A calibrated random model is far from one-hot; one-hot outputs would make parity meaningless. */
const MAX_PROBABILITY_BOUND = 0.99;
const BATCHES = [1, 5];

const MAKE_MODEL_CLI = path.resolve(__dirname, '../../src/cli/make-model.ts');

beforeAll(async () => {
  await selectBackend();
});

async function expectParity(model: tf.LayersModel, onnxBytes: Uint8Array, seed: number): Promise<void> {
  const session = await ortSession(onnxBytes);
  try {
    for (const batch of BATCHES) {
      const x = randomInput(model, batch, seed + batch);
      const expected = runTfjs(model, x);
      const got = await runOrt(session, x);
      x.dispose();
      expect(got.dims).toEqual([batch, NUM_CLASSES]);
      expect(Math.max(...expected)).toBeLessThan(MAX_PROBABILITY_BOUND);
      expect(maxAbsDiff(got.data, expected)).toBeLessThanOrEqual(PARITY_TOLERANCE);
    }
  } finally {
    await session.release();
  }
}

describe.each(['resnet-tiny', 'resnet-tiny-bottleneck', 'densenet-tiny', 'densenet-small'])(
  '%s exported in process',
  (config) => {
    it(
      'gives the TF.js probabilities at batch 1 and 5',
      async () => {
        const model = buildBackbone(config, {
          inputSize: REDUCED_INPUT_SIZE,
          numClasses: NUM_CLASSES,
          seed: 11,
        });
        const sample = randomInput(model, 8, 12);
        expect(calibrateBatchNorm(model, sample)).toBeGreaterThan(0);
        sample.dispose();
        await expectParity(model, exportToOnnx(model).bytes, 20);
        model.dispose();
      },
      REDUCED_TIMEOUT_MS,
    );
  },
);

describe.each(['resnet152', 'densenet161'])('full-size %s from make-model', (config) => {
  let registry: string;
  beforeAll(async () => {
    registry = await mkdtemp(path.join(os.tmpdir(), 'fer-parity-'));
  });
  afterAll(async () => {
    await rm(registry, { recursive: true, force: true });
  });

  it(
    'gives the TF.js probabilities at batch 1 and 5',
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          require.resolve('tsx/cli'),
          MAKE_MODEL_CLI,
          ...['--config', config, '--input-size', String(FULL_SIZE_INPUT_SIZE)],
          ...['--registry', registry, '--name', config, '--seed', '5'],
        ],
        { maxBuffer: 1 << 20 },
      );
      const made = JSON.parse(stdout) as { dir: string; config: string };
      expect(made.config).toBe(config);
      // The published model.onnx loads and runs any batch size.
      const published = await ortSession(await readFile(path.join(made.dir, ONNX_FILE)));
      const probe = tf.zeros([3, FULL_SIZE_INPUT_SIZE, FULL_SIZE_INPUT_SIZE, 3]);
      expect((await runOrt(published, probe)).dims).toEqual([3, NUM_CLASSES]);
      probe.dispose();
      await published.release();

      const model = await loadLayersModel(path.join(made.dir, TFJS_DIR));
      const head = model.getLayer(config.startsWith('resnet') ? 'fc' : 'classifier');
      const scaled = head.getWeights().map((w) => tf.mul(w, HEAD_SCALE));
      head.setWeights(scaled);
      tf.dispose(scaled);
      await expectParity(model, exportToOnnx(model).bytes, 30);
      model.dispose();
    },
    FULL_SIZE_TIMEOUT_MS,
  );
});
