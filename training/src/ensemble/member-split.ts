/**
 * Which validation images a published model held out, read from its metadata, and the check that
 * an ensemble's members all held out the same ones: only then is the ensemble's validation score
 * a score on images no member trained on, and so a fair basis for choosing members.
 */
import type { ModelMetadata } from '@fer/shared';

export interface ValidationSplitId {
  /** The seed the split was drawn with (`--split-seed`, else `--seed`). */
  seed: number;
  /** The stratified share of the training split (`--val-fraction`). */
  fraction: number;
}

export class EnsembleMemberError extends Error {
  override name = 'EnsembleMemberError';
}

const label = (m: ModelMetadata) => `${m.name}@${m.version}`;

/**
 * The split a model was trained with. Versions from before `validation_split_seed` was recorded
 * drew it from `--split-seed` when their command has one, else from their seed.
 *
 * @example memberSplit(metadata) // { seed: 42, fraction: 0.1 }
 * @throws EnsembleMemberError for a model without a training record or trained on a subset.
 */
export function memberSplit(metadata: ModelMetadata): ValidationSplitId {
  const training = metadata.training;
  if (!training)
    throw new EnsembleMemberError(
      `${label(metadata)} has no training record, so its validation images are unknown`,
    );
  const optimizer = training.optimizer;
  if (optimizer.max_train_images !== null && optimizer.max_train_images !== undefined) {
    throw new EnsembleMemberError(
      `${label(metadata)} was trained on a subset (--max-train-images ${String(optimizer.max_train_images)}); its validation split cannot be rebuilt`,
    );
  }
  const fraction = optimizer.validation_fraction;
  if (typeof fraction !== 'number')
    throw new EnsembleMemberError(`${label(metadata)} does not record its validation fraction`);
  const recorded = optimizer.validation_split_seed;
  const fromCommand = /--split-seed[= ](-?\d+)/.exec(training.command ?? '');
  const seed = typeof recorded === 'number' ? recorded : fromCommand ? Number(fromCommand[1]) : training.seed;
  return { seed, fraction };
}

/**
 * The split every member shares.
 *
 * @example sharedSplit([a, b, c]) // { seed: 42, fraction: 0.1 }
 * @throws EnsembleMemberError naming the members whose splits differ, or trained on other data.
 */
export function sharedSplit(members: readonly ModelMetadata[]): ValidationSplitId {
  const splits = members.map(memberSplit);
  const [first] = splits;
  members.forEach((m, i) => {
    if (splits[i].seed !== first.seed || splits[i].fraction !== first.fraction) {
      throw new EnsembleMemberError(
        `${label(m)} held out validation split (seed ${splits[i].seed}, fraction ${splits[i].fraction}), ` +
          `${label(members[0])} held out (seed ${first.seed}, fraction ${first.fraction}); ` +
          'train the members with one --split-seed and --val-fraction',
      );
    }
    const fingerprint = m.training!.dataset.fingerprint;
    if (fingerprint !== members[0].training!.dataset.fingerprint) {
      throw new EnsembleMemberError(
        `${label(m)} was trained on another dataset (fingerprint ${fingerprint}) than ${label(members[0])}`,
      );
    }
  });
  return first;
}
