/**
 * The uploaded image bytes of a /predict request, once its body was parsed: a raw
 * image/jpeg|png|webp body, or the file of a multipart/form-data upload (read-multipart.ts). Size
 * limits were enforced while the body streamed in (plugins/app/request-bodies.ts).
 */
import type { FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../errors';
import { IMAGE_FIELD } from './read-multipart';

/**
 * The image bytes of the request.
 *
 * @throws InvalidRequestError (400) when there is no body, or an empty one.
 */
export function readUpload(request: FastifyRequest): Buffer {
  const body = request.body;
  if (Buffer.isBuffer(body) && body.length > 0) return body;
  if (Buffer.isBuffer(body)) throw new InvalidRequestError('The request body is empty; send an image');
  throw new InvalidRequestError(
    `No image: send multipart/form-data with a file in the "${IMAGE_FIELD}" field, or an image body`,
  );
}
