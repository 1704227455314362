/**
 * Domain errors shared by training and serving. Each has a stable SCREAMING_CASE `code`;
 * the service maps codes to HTTP statuses, the training job prints the message. No HTTP here.
 */

export type FerErrorCode =
  | 'UNKNOWN_CLASS'
  | 'UNDECODABLE_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MODEL_NOT_FOUND'
  | 'INVALID_MODEL_VERSION';

export class FerError extends Error {
  constructor(
    readonly code: FerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UnknownClassError extends FerError {
  constructor(
    readonly label: string,
    known: readonly string[],
  ) {
    super(
      'UNKNOWN_CLASS',
      `Unknown expression class "${label}"; expected one of ${known.join(', ')} (or Disgust, which is skipped)`,
    );
  }
}

export class UndecodableImageError extends FerError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('UNDECODABLE_IMAGE', `The image could not be decoded: ${detail}`, options);
  }
}

export class ImageTooLargeError extends FerError {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    super(
      'IMAGE_TOO_LARGE',
      `The image is ${width}x${height} (${width * height} pixels); the limit is ${maxPixels} pixels`,
    );
  }
}

export class UnsupportedMediaTypeError extends FerError {
  constructor(
    readonly detected: string,
    allowed: readonly string[],
  ) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      `Images of type "${detected}" are not supported; send ${allowed.join(', ')}`,
    );
  }
}

export class ModelNotFoundError extends FerError {
  constructor(name: string, version?: number) {
    super(
      'MODEL_NOT_FOUND',
      version === undefined ? `No model named "${name}"` : `Model "${name}" has no version ${version}`,
    );
  }
}

export class InvalidModelVersionError extends FerError {
  constructor(
    readonly versionDir: string,
    readonly problems: readonly string[],
  ) {
    super('INVALID_MODEL_VERSION', `Invalid model version: ${problems.join('; ')}`);
  }
}
