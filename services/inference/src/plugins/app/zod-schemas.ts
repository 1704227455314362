/**
 * Lets routes declare `schema: { querystring, response }` with zod (fastify-type-provider-zod):
 * requests are validated by the zod schema (a failure reaches the error handler as Fastify's
 * FST_ERR_VALIDATION with zod's issues, answered 400 INVALID_REQUEST by http-errors.ts), and
 * answers are checked against their response schema, then written exactly as the handler built
 * them (JSON.stringify of the handler's object, as without a schema: a schema never reorders,
 * drops or rewrites a field of the API's answers).
 */
import fp from 'fastify-plugin';
import type { FastifySerializerCompiler } from 'fastify/types/schema';
import { ResponseSerializationError, validatorCompiler } from 'fastify-type-provider-zod';
import type { ZodType } from 'zod';

/** Checks an answer against its zod schema and serializes the answer itself, not zod's copy. */
export const checkedJsonSerializer: FastifySerializerCompiler<ZodType> =
  ({ schema, method, url }) =>
  (data) => {
    const checked = schema.safeParse(data);
    if (!checked.success) throw new ResponseSerializationError(method, url, { cause: checked.error });
    return JSON.stringify(data);
  };

export default fp(
  async (app) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(checkedJsonSerializer);
  },
  { name: 'zod-schemas' },
);
