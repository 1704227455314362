/**
 * The validation images a published version held out, from its metadata: a trained version's
 * split (as the ensemble job recovers its members'), or the split an ensemble's members shared.
 * `npm run calibrate` fits on exactly those images, so a version is never calibrated on images
 * it was trained on, nor on the test split.
 */
import path from 'node:path';
import { CLASSES, ONNX_FILE, type ModelMetadata } from '@fer/shared';
import type { PixelSet } from '../data/pixel-cache';
import { memberSplit, type ValidationSplitId } from '../ensemble/member-split';
import { OnnxClassifier } from '../release/onnx-classifier';
import { argmaxRows, classificationMetrics } from '../metrics/classification';

/** The data or split given cannot be the ones a published version was trained and scored on. */
export class CalibrateSourceError extends Error {
  override name = 'CalibrateSourceError';
}

/**
 * An ensemble records its score on the validation images its members shared; the rebuilt split
 * must reproduce it through the same model.onnx, up to one near-tie whose argmax another machine's
 * onnxruntime might round the other way.
 */
const RECORDED_SCORE_SLACK_IMAGES = 1;

/**
 * @example versionSplit(resnetSmallX3v1) // { seed: 42, fraction: 0.1 } (from its ensemble block)
 * @throws EnsembleMemberError for a version whose validation images cannot be rebuilt.
 */
export function versionSplit(metadata: ModelMetadata): ValidationSplitId {
  const shared = metadata.ensemble?.validation;
  if (shared) return { seed: shared.split_seed, fraction: shared.fraction };
  return memberSplit(metadata);
}

/**
 * Checks that `validation` holds the images `version` was scored on, where its metadata allows:
 * an ensemble (which records no dataset fingerprint) must reproduce its recorded validation
 * accuracy through its own model.onnx. Trained versions are checked by their fingerprint instead.
 *
 * @example await assertRecordedValidation(entry, validationSet, 64);
 * @throws CalibrateSourceError when the rebuilt images score otherwise.
 */
export async function assertRecordedValidation(
  version: { name: string; version: number; dir: string; metadata: ModelMetadata },
  validation: PixelSet,
  batchSize: number,
): Promise<void> {
  const recorded = version.metadata.ensemble?.validation;
  if (!recorded) return;
  const spec = version.metadata.preprocessing;
  const classifier = await OnnxClassifier.load(
    path.join(version.dir, ONNX_FILE),
    spec.input_size,
    CLASSES.length,
  );
  let probabilities: Float32Array;
  try {
    probabilities = await classifier.classifySet(validation, spec, batchSize);
  } finally {
    await classifier.dispose();
  }
  const { accuracy } = classificationMetrics(
    validation.labels,
    argmaxRows(probabilities, CLASSES.length),
    CLASSES,
    'validation',
  );
  const differing = Math.round(Math.abs(accuracy - recorded.accuracy) * recorded.samples);
  if (validation.count !== recorded.samples || differing > RECORDED_SCORE_SLACK_IMAGES) {
    throw new CalibrateSourceError(
      `the rebuilt validation split (${validation.count} images, accuracy ${accuracy}) is not the one ${version.name}@${version.version} was scored on ` +
        `(${recorded.samples} images, accuracy ${recorded.accuracy}): is this the dataset its members were trained on?`,
    );
  }
}
