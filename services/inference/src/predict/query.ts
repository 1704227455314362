/**
 * The query string of POST /predict (DESIGN §4) as a zod schema. Unknown parameters are refused,
 * so a typo ("face=largest") is a clear 400 instead of a silently ignored option.
 */
import { z } from 'zod';
import { describeIssues } from '../validation-messages';

const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]*$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

export const predictQuerySchema = z.strictObject({
  model: z.string().min(1).max(64).optional(),
  version: positiveInt(999_999_999).optional(),
  faces: z.enum(['all', 'largest']).default('all'),
  crop: z.enum(['auto', 'none']).default('auto'),
  /** Turn each face crop so the eyes are level; absent: the detector's measured default. */
  align: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  max_faces: positiveInt(1000).optional(),
});

export type PredictQuery = z.infer<typeof predictQuerySchema>;

/**
 * Validates a parsed query string; the message names each bad parameter.
 *
 * @example parsePredictQuery({ faces: 'largest' }) // { ok: true, query: { faces: 'largest', crop: 'auto' } }
 */
export function parsePredictQuery(
  raw: unknown,
): { ok: true; query: PredictQuery } | { ok: false; message: string } {
  const parsed = predictQuerySchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, query: parsed.data };
  return { ok: false, message: describeIssues('querystring', parsed.error.issues) };
}
