/**
 * The batch layout both runtimes accept, derived from a version's metadata, and the one check of
 * an incoming batch against it, so that a wrong buffer fails with the same clear message whichever
 * runtime serves the model.
 */
import type { ModelMetadata } from '@fer/shared';

export interface ModelShape {
  /** Side of the square input (metadata.preprocessing.input_size). */
  size: number;
  channels: number;
  classes: number;
  /** Floats per image: size * size * channels. */
  imageLength: number;
}

export function modelShape(metadata: ModelMetadata): ModelShape {
  const size = metadata.preprocessing.input_size;
  const channels = metadata.preprocessing.channels;
  return { size, channels, classes: metadata.classes.length, imageLength: size * size * channels };
}

/** A batch that does not match the model's input layout. */
export class InvalidBatchError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBatchError';
  }
}

/**
 * Throws InvalidBatchError unless `input` holds exactly `n` NHWC images of the model's shape.
 *
 * @example checkBatch(new Float32Array(2 * 32 * 32 * 3), 2, shape) // passes for a 32-px model
 */
export function checkBatch(input: Float32Array, n: number, shape: ModelShape): void {
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidBatchError(`batch size must be a positive integer, got ${n}`);
  if (!(input instanceof Float32Array)) throw new InvalidBatchError('input must be a Float32Array');
  const expected = n * shape.imageLength;
  if (input.length !== expected) {
    throw new InvalidBatchError(
      `expected ${n} x ${shape.size} x ${shape.size} x ${shape.channels} = ${expected} floats (NHWC), got ${input.length}`,
    );
  }
}
