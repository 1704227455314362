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

/**
 * The state dict is readable but does not match the model. The message holds the count and the
 * first few problems; `problems` holds them all but is not enumerable, so a logger that serializes
 * the error (pino's `err`) writes the bounded message, not thousands of lines (a ResNet file into
 * a DenseNet has about two thousand problems).
 */
export class WeightMismatchError extends WeightImportError {
  declare readonly problems: readonly string[];
  readonly problemCount: number;

  constructor(problems: readonly string[], context: string) {
    super('WEIGHT_MISMATCH', `${context}: ${summarizeProblems(problems)}`);
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
    this.problemCount = problems.length;
  }
}

/** Enough to diagnose a wrong architecture in one readable line; `problems` holds them all. */
export const MAX_PROBLEMS_IN_MESSAGE = 5;

/**
 * The count and the first few problems, for messages and log lines.
 *
 * @example summarizeProblems(['a', 'b']) // '2 problem(s): a; b'
 */
export function summarizeProblems(problems: readonly string[], limit = MAX_PROBLEMS_IN_MESSAGE): string {
  const shown = problems.slice(0, limit);
  const more = problems.length - shown.length;
  return `${problems.length} problem(s): ${shown.join('; ')}${more > 0 ? `; ... and ${more} more` : ''}`;
}
