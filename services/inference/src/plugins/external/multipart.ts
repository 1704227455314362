/**
 * multipart/form-data uploads (@fastify/multipart): one file of at most the body limit, a few
 * small fields. Files are read by the predict route; nothing is written to disk.
 */
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';

/** Non-file fields are not used by the API; a few are tolerated (browsers add some). */
const MAX_FIELDS = 10;
const MAX_FIELD_BYTES = 1024;

export async function registerMultipart(app: FastifyInstance, maxFileBytes: number): Promise<void> {
  await app.register(multipart, {
    limits: {
      fileSize: maxFileBytes,
      files: 1,
      fields: MAX_FIELDS,
      fieldSize: MAX_FIELD_BYTES,
      parts: MAX_FIELDS + 1,
    },
  });
}
