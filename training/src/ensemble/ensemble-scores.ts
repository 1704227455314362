/**
 * The ensemble's and its members' answers, all through their model.onnx in onnxruntime (as the
 * service runs them): each on the shared validation images and the test split (a member also on
 * the mirrored test images with `mirror`), and the check that the ensemble's file computes what it
 * claims, the members' mean (raised to 1/T and renormalised when calibrated).
 */
import path from 'node:path';
import { CLASSES, NUM_CLASSES, ONNX_FILE, type ModelMetrics, type PreprocessSpec } from '@fer/shared';
import { logProbabilities, scaledProbabilities, type Calibration } from '../calibration/temperature-fit';
import { mirrorSet, type PixelSet } from '../data/pixel-cache';
import { probabilityMetrics } from '../metrics/probability-metrics';
import { withOnnxClassifier } from '../release/onnx-classifier';
import { maxAbsDiff, ONNX_PARITY_TOLERANCE } from '../release/parity';

export interface Scored {
  probabilities: Float32Array;
  metrics: ModelMetrics;
}

export interface EnsembleScores {
  members: { validation: Scored; test: Scored; mirroredTest: Scored | null }[];
  validation: Scored;
  test: Scored;
  /** The members' mean on the test split: the ensemble without its temperature. */
  mean: Float32Array;
  /** Largest difference between the ensemble's answers and what the members' mean makes them. */
  meanMaxDiff: number;
}

export interface ScoringImages {
  spec: PreprocessSpec;
  validation: PixelSet;
  test: PixelSet;
  testSplit: string;
  /** Also score every member on the mirror images of the test split (the ensemble averages both). */
  mirror: boolean;
  batchSize: number;
}

/**
 * Scores the members' and the ensemble's model.onnx, one file open at a time, and checks the
 * ensemble against the members' mean (calibrated as the ensemble's graph calibrates it).
 *
 * @example const scores = await scoreEnsemble(members.map((m) => m.dir), staged.onnxFile, images, { temperature: [0.8], bias: null });
 * @throws Error when the ensemble's answers differ from the members' mean by more than ONNX_PARITY_TOLERANCE.
 */
export async function scoreEnsemble(
  memberDirs: readonly string[],
  ensembleOnnx: string,
  images: ScoringImages,
  calibration: Calibration | null,
): Promise<EnsembleScores> {
  const { spec } = images;
  const scoreOn = (file: string, sets: { set: PixelSet; split: string }[]) =>
    withOnnxClassifier(file, spec.input_size, NUM_CLASSES, async (c) => {
      const scored: Scored[] = [];
      for (const { set, split } of sets) {
        const probabilities = await c.classifySet(set, spec, images.batchSize);
        scored.push({
          probabilities,
          metrics: probabilityMetrics(probabilities, set.labels, CLASSES, split),
        });
      }
      return scored;
    });
  const both = [
    { set: images.validation, split: 'validation' },
    { set: images.test, split: images.testSplit },
  ];
  const mirroredTest = images.mirror ? mirrorSet(images.test) : null;
  const members: EnsembleScores['members'] = [];
  for (const dir of memberDirs) {
    const [validation, test, mirrored] = await scoreOn(path.join(dir, ONNX_FILE), [
      ...both,
      ...(mirroredTest ? [{ set: mirroredTest, split: images.testSplit }] : []),
    ]);
    members.push({ validation, test, mirroredTest: mirrored ?? null });
  }
  const [validation, test] = await scoreOn(ensembleOnnx, both);

  const views = members.flatMap((s) => (s.mirroredTest ? [s.test, s.mirroredTest] : [s.test]));
  const mean = test.probabilities.map(
    (_, i) => views.reduce((sum, v) => sum + v.probabilities[i], 0) / views.length,
  );
  const expected = calibration
    ? scaledProbabilities(logProbabilities(mean), calibration.temperature, NUM_CLASSES, calibration.bias)
    : mean;
  const meanMaxDiff = maxAbsDiff(expected, test.probabilities);
  if (meanMaxDiff > ONNX_PARITY_TOLERANCE) {
    throw new Error(
      `the ensemble's ONNX export differs from the members' mean by ${meanMaxDiff} (limit ${ONNX_PARITY_TOLERANCE})`,
    );
  }
  return { members, validation, test, mean, meanMaxDiff };
}
