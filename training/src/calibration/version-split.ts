/**
 * The validation images a published version held out, from its metadata: a trained version's
 * split (as the ensemble job recovers its members'), or the split an ensemble's members shared.
 * `npm run calibrate` fits on exactly those images, so a version is never calibrated on images
 * it was trained on, nor on the test split.
 */
import type { ModelMetadata } from '@fer/shared';
import { memberSplit, type ValidationSplitId } from '../ensemble/member-split';

/**
 * @example versionSplit(resnetSmallX3v1) // { seed: 42, fraction: 0.1 } (from its ensemble block)
 * @throws EnsembleMemberError for a version whose validation images cannot be rebuilt.
 */
export function versionSplit(metadata: ModelMetadata): ValidationSplitId {
  const shared = metadata.ensemble?.validation;
  if (shared) return { seed: shared.split_seed, fraction: shared.fraction };
  return memberSplit(metadata);
}
