// Every model shipped in models/ (README, "The default model" and "The study"): the default
// resnet-small-x3, resnet-small beside it, and any model that joins them (the study's DenseNet):
// each is there, intact (sha256), small enough for git, answers deterministically on generated
// inputs in both runtimes alike, is calibrated on validation images, and — when ../shared holds the
// dataset — still recognizes expressions on a fixed subset of the test split with sound
// probabilities (calibration error and log-loss), so a preprocessing change that breaks it is caught.
import { existsSync, readdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CLASSES,
  isValidModelName,
  preprocessImage,
  resolve,
  resolveClassName,
  type ModelMetadata,
} from '@fer/shared';
import { DEFAULT_REGISTRY_DIR, SHIPPED_DEFAULT_MODEL } from '../../src/config';
import { createInProcessRuntime, type InferenceRuntime } from '../../src/runtime';
import { faceCrop } from '../helpers/images';
import { REPO_ROOT } from '../helpers/test-models';

/** The size budget for one version in git. */
const MAX_VERSION_BYTES = 25 * 1024 * 1024;
/** The same weights through ONNX Runtime and TF.js agree to this (as in the runtimes test). */
const PARITY_TOLERANCE = 1e-4;
const SUBSET_SIZE = 600;
/**
 * The default model's floor (the issue's). Its v2 scores 67.8% on the whole split and 64.0% on this
 * subset (v1, without the temperature: 67.6% and 63.8%; its member resnet-small v1 alone: 65.6% and
 * 61.7%, and 51.7% on the subset without the normalization).
 */
const DEFAULT_MODEL_FLOOR = 0.6;
/**
 * The default model's log-loss (mean -ln p(label)) on that subset: v2 (with its temperature)
 * measures 0.937, v1 (the same network without it) 0.979, so the bound tells them apart.
 */
const MAX_DEFAULT_SUBSET_NLL = 0.96;
/**
 * Every model's 15-bin expected calibration error on that subset. ECE on 600 images is mostly
 * noise (a perfectly calibrated model with these confidences measures 4.5% on average, 7.1% at the
 * 99th percentile), so this bound only catches broken probabilities; on the whole split the default
 * v2 measures 2.6%, v1 5.2%.
 */
const MAX_SUBSET_ECE = 0.08;
const ECE_BINS = 15;
/**
 * Every shipped model's floor: its own test accuracy (metadata.json, the whole split) less this.
 * The subset is a fixed sample of the same split: both ResNets score 3.8-3.9 points below their
 * whole-split figure on it (one standard error of 600 images is about 2 points); a broken
 * preprocessing costs about 14.
 */
const SUBSET_MARGIN = 0.06;
const TEST_SPLIT = path.resolve(REPO_ROOT, '../shared/datasets/fer6/Testing/Testing');
const HAVE_TEST_SPLIT = existsSync(TEST_SPLIT);
const LOAD_TIMEOUT_MS = 120_000;

/** The model folders of models/, read when the test file loads so each gets its own tests. */
const SHIPPED = readdirSync(DEFAULT_REGISTRY_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && isValidModelName(entry.name))
  .map((entry) => entry.name)
  .sort();

const runtimes: InferenceRuntime[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.dispose()));
});

test('models/ ships the default model', () => {
  expect(SHIPPED).toContain(SHIPPED_DEFAULT_MODEL);
});

/** Encoded images through the shared preprocessing, as one NHWC batch. */
async function batchOf(images: readonly Uint8Array[], metadata: ModelMetadata): Promise<Float32Array> {
  const inputs = await Promise.all(images.map((bytes) => preprocessImage(bytes, metadata.preprocessing)));
  const size = inputs[0].length;
  const batch = new Float32Array(inputs.length * size);
  inputs.forEach((input, i) => batch.set(input, i * size));
  return batch;
}

/**
 * Expected calibration error of the top probability over equal-width bins (lower, upper], as
 * training's metrics compute it (the service never imports training).
 */
function expectedCalibrationError(rows: readonly number[][], labels: readonly number[]): number {
  const count = new Array<number>(ECE_BINS).fill(0);
  const confidence = new Array<number>(ECE_BINS).fill(0);
  const right = new Array<number>(ECE_BINS).fill(0);
  rows.forEach((row, i) => {
    const top = Math.max(...row);
    const bin = Math.min(ECE_BINS - 1, Math.max(0, Math.ceil(top * ECE_BINS) - 1));
    count[bin]++;
    confidence[bin] += top;
    if (row.indexOf(top) === labels[i]) right[bin]++;
  });
  return count.reduce((sum, n, b) => (n > 0 ? sum + Math.abs(right[b] - confidence[b]) / rows.length : sum), 0);
}

/**
 * Every k-th image of the test split (classes in order, file names sorted): a fixed subset that
 * keeps the split's class balance.
 */
async function testSubset(size: number): Promise<{ file: string; label: number }[]> {
  const all: { file: string; label: number }[] = [];
  for (const folder of (await readdir(TEST_SPLIT)).sort()) {
    const resolved = resolveClassName(folder);
    if (resolved.kind !== 'class') continue;
    const files = (await readdir(path.join(TEST_SPLIT, folder))).sort();
    for (const file of files) all.push({ file: path.join(TEST_SPLIT, folder, file), label: resolved.index });
  }
  const stride = Math.floor(all.length / size);
  return all.filter((_, i) => i % stride === 0).slice(0, size);
}

describe.each(SHIPPED)('models/%s', (name) => {
  let dir: string;
  let metadata: ModelMetadata;

  beforeAll(async () => {
    const version = await resolve(DEFAULT_REGISTRY_DIR, name, undefined, { verify: 'sha256' });
    dir = version.dir;
    metadata = version.metadata;
  });

  async function loaded(kind: 'onnx' | 'tfjs'): Promise<InferenceRuntime> {
    const runtime = createInProcessRuntime(kind, { device: 'cpu', threads: 2, tfjsBackend: 'wasm' });
    runtimes.push(runtime);
    await runtime.load(dir, metadata);
    return runtime;
  }

  test('is published with test metrics, passes its sha256 checks and fits in git', () => {
    expect(metadata.name).toBe(name);
    expect(metadata.classes).toEqual([...CLASSES]);
    expect(metadata.metrics?.accuracy).toBeGreaterThan(0);
    // Calibrated: a temperature in the graph, fitted on validation images only.
    expect(metadata.calibration?.fitted_on.split).toBe('validation');
    const bytes = metadata.artifacts.reduce((sum, artifact) => sum + artifact.bytes, 0);
    expect(bytes).toBeLessThanOrEqual(MAX_VERSION_BYTES);
  });

  test(
    'classifies generated inputs deterministically, batched or one by one, alike in ONNX Runtime and TF.js',
    async () => {
      const n = 6;
      const crops = await Promise.all(Array.from({ length: n }, (_, seed) => faceCrop('png', seed)));
      const input = await batchOf(crops, metadata);
      const onnx = await loaded('onnx');
      const first = await onnx.run(input, n);
      expect(await onnx.run(input, n)).toEqual(first);

      const size = input.length / n;
      for (let i = 0; i < n; i++) {
        const row = first.subarray(i * CLASSES.length, (i + 1) * CLASSES.length);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        const alone = await onnx.run(input.slice(i * size, (i + 1) * size), 1);
        alone.forEach((p, c) => expect(Math.abs(p - row[c])).toBeLessThan(PARITY_TOLERANCE));
      }

      const tfjs = await loaded('tfjs');
      const viaTfjs = await tfjs.run(input, n);
      viaTfjs.forEach((p, i) => expect(Math.abs(p - first[i])).toBeLessThan(PARITY_TOLERANCE));
    },
    LOAD_TIMEOUT_MS,
  );

  const mirrored = name === SHIPPED_DEFAULT_MODEL ? test : test.skip;
  mirrored(
    'answers a face and its mirror image alike: every member also sees the mirror image' +
      (name === SHIPPED_DEFAULT_MODEL ? '' : ' (the default model only)'),
    async () => {
      expect(metadata.ensemble?.mirror).toBe(true);
      const n = 4;
      const crops = await Promise.all(Array.from({ length: n }, (_, seed) => faceCrop('png', seed + 10)));
      const input = await batchOf(crops, metadata);
      // Mirror the model input itself: resampling a mirrored file is not exactly a mirrored resample.
      const side = metadata.preprocessing.input_size;
      const mirror = input.map((_, i) => {
        const x = Math.floor(i / 3) % side;
        return input[i + (side - 1 - 2 * x) * 3];
      });
      const onnx = await loaded('onnx');
      const direct = await onnx.run(input, n);
      const fromMirror = await onnx.run(mirror, n);
      direct.forEach((p, i) => expect(Math.abs(p - fromMirror[i])).toBeLessThan(PARITY_TOLERANCE));
    },
    LOAD_TIMEOUT_MS,
  );

  (HAVE_TEST_SPLIT ? test : test.skip)(
    `is right on a fixed ${SUBSET_SIZE}-image subset of the fer6 test split within ${SUBSET_MARGIN * 100} points of its recorded test accuracy, with a calibration error of at most ${MAX_SUBSET_ECE * 100}%` +
      (HAVE_TEST_SPLIT ? '' : ' (skipped: ../shared/datasets/fer6 is absent)'),
    async () => {
      const subset = await testSubset(SUBSET_SIZE);
      expect(subset).toHaveLength(SUBSET_SIZE);
      const onnx = await loaded('onnx');
      const batchSize = 50;
      let right = 0;
      const rows: number[][] = [];
      for (let start = 0; start < subset.length; start += batchSize) {
        const items = subset.slice(start, start + batchSize);
        const batch = await batchOf(await Promise.all(items.map((item) => readFile(item.file))), metadata);
        const probabilities = await onnx.run(batch, items.length);
        items.forEach((item, i) => {
          const row = Array.from(probabilities.subarray(i * CLASSES.length, (i + 1) * CLASSES.length));
          if (row.indexOf(Math.max(...row)) === item.label) right++;
          rows.push(row);
        });
      }
      const accuracy = right / subset.length;
      const recorded = metadata.metrics?.accuracy ?? 1;
      const floor = Math.max(recorded - SUBSET_MARGIN, name === SHIPPED_DEFAULT_MODEL ? DEFAULT_MODEL_FLOOR : 0);
      const labels = subset.map((item) => item.label);
      const ece = expectedCalibrationError(rows, labels);
      const nll = -rows.reduce((sum, row, i) => sum + Math.log(row[labels[i]]), 0) / rows.length;
      console.log(
        `${name} on the ${SUBSET_SIZE}-image test subset: accuracy ${accuracy.toFixed(4)} (whole split ${recorded.toFixed(4)}, floor ${floor.toFixed(4)}), ECE ${ece.toFixed(4)}, NLL ${nll.toFixed(4)}`,
      );
      expect(accuracy).toBeGreaterThanOrEqual(floor);
      expect(ece).toBeLessThanOrEqual(MAX_SUBSET_ECE);
      if (name === SHIPPED_DEFAULT_MODEL) expect(nll).toBeLessThanOrEqual(MAX_DEFAULT_SUBSET_NLL);
    },
    LOAD_TIMEOUT_MS,
  );
});

test.each([1, 2])(
  'the default model (v%i) records the dataset its members were trained and it was tested on, as its member resnet-small v1 does',
  async (version) => {
    // The ensemble has no training block; without this the Models view could not tell that the
    // shipped models were tested on the same images. The ensemble job checked the dataset against its
    // members' and wrote the fingerprint into its report too; calibrate keeps the block.
    const { dir, metadata } = await resolve(DEFAULT_REGISTRY_DIR, SHIPPED_DEFAULT_MODEL, version);
    const member = await resolve(DEFAULT_REGISTRY_DIR, 'resnet-small', 1);
    const dataset = metadata.ensemble?.dataset;
    expect(dataset).toEqual({
      format: member.metadata.training?.dataset.format,
      fingerprint: member.metadata.training?.dataset.fingerprint,
    });
    const report = await readFile(
      path.join(dir, 'report', version === 1 ? 'report.md' : 'source-report.md'),
      'utf8',
    );
    expect(report).toContain(`fingerprint \`${dataset?.fingerprint}\``);
    expect([metadata.metrics?.split, metadata.metrics?.samples]).toEqual([
      member.metadata.metrics?.split,
      member.metadata.metrics?.samples,
    ]);
  },
);
