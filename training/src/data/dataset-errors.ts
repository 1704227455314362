/**
 * Errors the dataset readers throw. Each names the folder or file at fault and what was
 * expected, so a user pointing `--data` at the wrong place learns what to fix.
 */

export type DatasetErrorCode =
  | 'DATASET_NOT_FOUND'
  | 'UNKNOWN_DATASET_FORMAT'
  | 'EMPTY_DATASET'
  | 'UNKNOWN_CLASS_FOLDER'
  | 'MISSING_CLASS'
  | 'MISSING_SPLIT'
  | 'UNREADABLE_IMAGE'
  | 'INVALID_CSV';

export class DatasetError extends Error {
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatasetError';
  }
}
