import {
  ImageTooLargeError,
  InvalidModelVersionError,
  ModelNotFoundError,
  UndecodableImageError,
  UnsupportedMediaTypeError,
} from '@fer/shared';
import {
  InferenceFailedError,
  OverloadedError,
  PayloadTooLargeError,
  RequestTimeoutError,
} from '../src/errors';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { errorBody, toHttpError } from '../src/http-errors';
import { parsePredictQuery, predictQuerySchema } from '../src/predict/query';

describe('toHttpError', () => {
  test.each([
    [new UndecodableImageError('truncated'), 422, 'UNDECODABLE_IMAGE'],
    [new ImageTooLargeError(20000, 20000, 40e6), 422, 'IMAGE_TOO_LARGE'],
    [new UnsupportedMediaTypeError('svg', ['image/png']), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [new ModelNotFoundError('x'), 404, 'MODEL_NOT_FOUND'],
    [new InvalidModelVersionError('/srv/models/x/2', ['model.onnx: missing']), 404, 'MODEL_NOT_FOUND'],
    [new OverloadedError(3), 503, 'OVERLOADED'],
    [new RequestTimeoutError(100), 504, 'TIMEOUT'],
    [
      Object.assign(new Error('Request body is too large'), {
        code: 'FST_ERR_CTP_BODY_TOO_LARGE',
        statusCode: 413,
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [new PayloadTooLargeError(1024, 'a multipart part header'), 413, 'PAYLOAD_TOO_LARGE'],
    [
      Object.assign(new Error('Unsupported Media Type'), {
        code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        statusCode: 415,
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ])('%s -> %i %s', (error, status, code) => {
    const http = toHttpError(error, 'req-1');
    expect(http.statusCode).toBe(status);
    expect(http.code).toBe(code);
    expect(http.unexpected).toBe(false);
  });

  test('a full queue tells the client when to retry', () => {
    expect(toHttpError(new OverloadedError(3), 'r').headers).toEqual({ 'retry-after': '3' });
  });

  test('unknown errors become a generic 500 without internals', () => {
    const error = new Error('ENOENT: no such file /srv/models/secret/model.onnx');
    const http = toHttpError(error, 'req-42');
    expect(http).toMatchObject({ statusCode: 500, code: 'INTERNAL_ERROR', unexpected: true });
    expect(http.message).toBe('Internal server error (request id req-42)');
    expect(JSON.stringify(errorBody(http.code, http.message))).not.toMatch(/srv|ENOENT|at /);
  });

  test('a failed batch is a 500 whose message hides the runtime error', () => {
    const http = toHttpError(new InferenceFailedError(new Error('ORT failure at /tmp/x')), 'r');
    expect(http).toMatchObject({ statusCode: 500, code: 'INFERENCE_FAILED', unexpected: true });
    expect(http.message).not.toMatch(/ORT|tmp/);
  });
});

describe('a route schema refusing a request part', () => {
  test('is a 400 INVALID_REQUEST worded like every refused query', () => {
    // What Fastify's validation phase gets from the route's zod schema.
    const validate = validatorCompiler({
      schema: predictQuerySchema,
      method: 'POST',
      url: '/predict',
      httpPart: 'querystring',
    }) as (data: unknown) => { error?: unknown[] };
    const { error: validation } = validate({ face: 'largest', version: '0' });
    if (validation === undefined) throw new Error('the query should have been refused');
    const refused = Object.assign(new Error('querystring/version must be...'), {
      code: 'FST_ERR_VALIDATION',
      statusCode: 400,
      validation,
      validationContext: 'querystring',
    });
    const http = toHttpError(refused, 'r');
    expect(http).toMatchObject({ statusCode: 400, code: 'INVALID_REQUEST', unexpected: false });
    const direct = parsePredictQuery({ face: 'largest', version: '0' });
    expect(direct.ok ? null : direct.message).toBe(http.message);
    expect(http.message).toMatch(/^Invalid query: .*unknown parameter face/);
    expect(http.message).toMatch(/version: /);
  });
});
