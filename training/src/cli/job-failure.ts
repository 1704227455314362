/**
 * How the CLIs report a job that failed. An expected failure (a dataset path that does not exist,
 * a refused publish, members that cannot be combined, a model that is not there, a weight file
 * that does not fit) is the user's to fix: its message on stderr and a log line with its code,
 * without a stack trace. Anything else is a bug: logged with its stack, for the issue report.
 */
import { FerError, IncompatibleVersionError } from '@fer/shared';
import { WeightImportError } from '../backbones/weights';
import { DatasetError } from '../data/dataset-errors';
import { EnsembleMemberError } from '../ensemble/member-split';
import type { Logger } from '../train/logger';

/**
 * @example isExpectedFailure(new DatasetError('DATASET_NOT_FOUND', 'No dataset at /x')) // true
 */
export function isExpectedFailure(error: unknown): error is Error & { code?: string } {
  return (
    error instanceof DatasetError ||
    error instanceof FerError ||
    error instanceof IncompatibleVersionError ||
    error instanceof WeightImportError ||
    error instanceof EnsembleMemberError
  );
}

/**
 * Logs `error` (with its stack only when unexpected) under `message` and prints its message on
 * stderr.
 *
 * @example reportFailure(log, error, 'training failed');
 */
export function reportFailure(log: Logger, error: unknown, message: string): void {
  if (isExpectedFailure(error)) {
    log.error({ code: error.code ?? error.name, reason: error.message }, message);
  } else {
    log.error({ err: error }, message);
  }
  console.error(error instanceof Error ? error.message : String(error));
}
