/**
 * The two ways a weight import fails, with stable codes: the file itself cannot be read as a
 * state dict, or its tensors do not fit the model. Messages name the key, layer or byte at fault.
 */

export type WeightImportErrorCode = 'INVALID_WEIGHT_FILE' | 'WEIGHT_MISMATCH';

export class WeightImportError extends Error {
  constructor(
    readonly code: WeightImportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The bytes are not a readable torch.save / safetensors state dict (truncated, corrupt, unsupported). */
export class WeightFileError extends WeightImportError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_WEIGHT_FILE', message, options);
  }
}

/** The state dict is readable but does not match the model: every problem is listed. */
export class WeightMismatchError extends WeightImportError {
  constructor(
    readonly problems: readonly string[],
    context: string,
  ) {
    const shown = problems.slice(0, MAX_PROBLEMS_IN_MESSAGE);
    const more = problems.length - shown.length;
    super(
      'WEIGHT_MISMATCH',
      `${context}: ${problems.length} problem(s): ${shown.join('; ')}${more > 0 ? `; ... and ${more} more` : ''}`,
    );
  }
}

/** Enough to diagnose a wrong architecture without a multi-page message; `problems` holds them all. */
const MAX_PROBLEMS_IN_MESSAGE = 12;
