/**
 * The first half of every publish (train, ensemble and calibrate jobs alike): the TF.js model that
 * will be served -> a staging folder holding tfjs/ and model.onnx, the ONNX file checked against
 * the TF.js model on the first test images (parity.ts), its latency and size measured. What is
 * staged is what publish-version.ts publishes; nothing reaches the registry before the check.
 */
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from 'pino';
import { NUM_CLASSES, ONNX_FILE, REPORT_DIR, TFJS_DIR, type PreprocessSpec } from '@fer/shared';
import { saveLayersModel } from '@fer/shared/tfjs';
import type { PixelSet } from '../data/pixel-cache';
import { writeOnnxModel, type OnnxExportInfo } from '../export/onnx';
import { OnnxClassifier } from './onnx-classifier';
import { maxAbsDiff, ONNX_PARITY_TOLERANCE, parityBatch } from './parity';

/** The ONNX file's facts every report shows. */
export interface OnnxFacts {
  bytes: number;
  opset: number;
  /** Median milliseconds of one single-image onnxruntime call on this CPU. */
  latencyMsPerImage: number;
  /** Largest probability difference between TF.js and onnxruntime on the parity images. */
  parityMaxDiff: number;
}

export interface StagedVersion {
  /** The folder publish copies; `reportDir` inside it is there, empty, for the report. */
  dir: string;
  reportDir: string;
  onnxFile: string;
  /** What metadata.json records under `export`. */
  export: OnnxExportInfo;
  onnx: OnnxFacts;
}

/**
 * Runs `use` with a fresh staging folder under the system's temp folder, removed afterwards.
 *
 * @example const result = await withStagingFolder('fer-ensemble-', async (dir) => publishVersion(...));
 */
export async function withStagingFolder<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    // mkdtemp makes it owner-only, and publish copies the folder's mode into the version folder.
    await chmod(dir, 0o755);
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The TF.js model's probabilities of one normalized batch. */
async function tfjsProbabilities(model: tf.LayersModel, x: Float32Array, n: number, size: number) {
  const y = tf.tidy(() => model.predict(tf.tensor4d(x, [n, size, size, 3])) as tf.Tensor);
  const data = (await y.data()) as Float32Array;
  y.dispose();
  return data;
}

/**
 * Writes `model` into `dir` as tfjs/ and model.onnx and checks the ONNX file against it on the
 * first images of `test`; logs 'ONNX export checked'. The caller still owns (and disposes) `model`.
 *
 * @example const staged = await stageVersion(served, path.join(runDir, 'version'), { set: testSet, spec }, log);
 * @throws Error when onnxruntime's probabilities differ from TF.js's by more than ONNX_PARITY_TOLERANCE;
 *         UnsupportedLayerError for a layer the exporter cannot translate.
 */
export async function stageVersion(
  model: tf.LayersModel,
  dir: string,
  test: { set: PixelSet; spec: PreprocessSpec },
  log: Logger,
): Promise<StagedVersion> {
  const reportDir = path.join(dir, REPORT_DIR);
  await mkdir(reportDir, { recursive: true });
  await saveLayersModel(model, path.join(dir, TFJS_DIR));
  const onnxFile = path.join(dir, ONNX_FILE);
  const onnx = await writeOnnxModel(model, onnxFile);
  const batch = parityBatch(test.set, test.spec);
  const expected = await tfjsProbabilities(model, batch.x, batch.n, test.spec.input_size);
  const classifier = await OnnxClassifier.load(onnxFile, test.spec.input_size, NUM_CLASSES);
  let parityMaxDiff: number;
  let latencyMsPerImage: number;
  try {
    parityMaxDiff = maxAbsDiff(await classifier.run(batch.x, batch.n), expected);
    if (parityMaxDiff > ONNX_PARITY_TOLERANCE) {
      throw new Error(
        `the ONNX export differs from the TF.js model by ${parityMaxDiff} (limit ${ONNX_PARITY_TOLERANCE})`,
      );
    }
    latencyMsPerImage = await classifier.latencyMs();
  } finally {
    await classifier.dispose();
  }
  log.info(
    { parityImages: batch.n, maxProbabilityDiff: parityMaxDiff, latencyMs: latencyMsPerImage, ...onnx.stats },
    'ONNX export checked',
  );
  return {
    dir,
    reportDir,
    onnxFile,
    export: onnx.export,
    onnx: {
      bytes: (await stat(onnxFile)).size,
      opset: onnx.export.onnx_opset,
      latencyMsPerImage,
      parityMaxDiff,
    },
  };
}
