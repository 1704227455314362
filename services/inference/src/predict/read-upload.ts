/**
 * Gets the uploaded image bytes out of a /predict request: a multipart/form-data body with exactly
 * one file in the field `image`, or a raw image/jpeg|png|webp body. Size limits are enforced by
 * Fastify (raw bodies) and @fastify/multipart (files) while the body streams in.
 */
import type { FastifyRequest } from 'fastify';
import { InvalidRequestError, ServiceError } from '../errors';
import { SUPPORTED_MEDIA_TYPES } from './media-type';

export const IMAGE_FIELD = 'image';

/**
 * The image bytes of the request.
 *
 * @throws InvalidRequestError (400) for a missing, misnamed or empty image or a second file,
 *         ServiceError 415 for a body that is neither multipart nor an image type.
 */
export async function readUpload(request: FastifyRequest): Promise<Buffer> {
  if (request.isMultipart()) return readMultipart(request);
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    if (body.length === 0) throw new InvalidRequestError('The request body is empty; send an image');
    return body;
  }
  if (body === undefined || body === null) {
    throw new InvalidRequestError(
      `No image: send multipart/form-data with a file in the "${IMAGE_FIELD}" field, or an image body`,
    );
  }
  throw new ServiceError(
    'UNSUPPORTED_MEDIA_TYPE',
    415,
    `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted; send multipart/form-data or ${SUPPORTED_MEDIA_TYPES.join(', ')}`,
  );
}

async function readMultipart(request: FastifyRequest): Promise<Buffer> {
  let image: Buffer | null = null;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    if (part.fieldname !== IMAGE_FIELD) {
      // Drain it so the parser can go on, then refuse: a misnamed field is a client bug worth naming.
      part.file.resume();
      throw new InvalidRequestError(
        `Unexpected file field "${part.fieldname}"; send the image in "${IMAGE_FIELD}"`,
      );
    }
    image = await part.toBuffer();
  }
  if (image === null)
    throw new InvalidRequestError(`The multipart body has no file in the "${IMAGE_FIELD}" field`);
  if (image.length === 0) throw new InvalidRequestError(`The file in "${IMAGE_FIELD}" is empty`);
  return image;
}
